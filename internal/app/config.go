// Package app wires placette together: it opens the data folder, builds the
// packages' handlers over one database, and runs the listeners and the
// control socket until it is told to stop. cmd/placette turns flags and the
// environment into a Config and calls it; end-to-end tests start it on
// 127.0.0.1:0 through package apptest.
package app

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// Config holds placette's start-up settings. Everything else (lists,
// accounts, pages, relay) lives in the database.
type Config struct {
	// DataDir is the data folder: placette.db, the control socket, later
	// the search index and certificates.
	DataDir string
	// HTTPAddr is the address of the web listener.
	HTTPAddr string
	// BehindProxy serves plain HTTP for a reverse proxy on this machine,
	// trusting its X-Forwarded-For, and marks cookies Secure.
	BehindProxy bool
	// SMTPAddr is the address of the SMTP listener that receives the
	// lists' mail; "" for none.
	SMTPAddr string
	// LMTPAddr is the address of an LMTP listener, "unix:/path" or
	// host:port, for mail from a local MTA; when set, SMTPAddr is not
	// used.
	LMTPAddr string
	// MailDomain is the lists' mail domain; "" for the one placette last
	// ran with (a command run without the server).
	MailDomain string
	// LogFormat is "text" or "json".
	LogFormat string
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string
}

// Defaults of the local mode: nothing to set to try placette.
const (
	DefaultDataDir    = "./placette-data"
	DefaultHTTPAddr   = "127.0.0.1:8080"
	DefaultSMTPAddr   = "127.0.0.1:2525"
	DefaultMailDomain = "localhost"
)

// DefaultConfig returns the configuration of the local mode.
func DefaultConfig() Config {
	return Config{
		DataDir:    DefaultDataDir,
		HTTPAddr:   DefaultHTTPAddr,
		SMTPAddr:   DefaultSMTPAddr,
		MailDomain: DefaultMailDomain,
		LogFormat:  "text",
		LogLevel:   "info",
	}
}

// Validate checks c and returns every problem in one error, each on its own
// line.
func (c *Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("-data: the data folder must be named"))
	}
	if err := CheckHTTPAddr(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("-http %q: %w", c.HTTPAddr, err))
	}
	if c.SMTPAddr != "" && c.LMTPAddr == "" {
		if err := CheckHTTPAddr(c.SMTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("-smtp %q: %w", c.SMTPAddr, err))
		}
	}
	if err := CheckLMTPAddr(c.LMTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("-lmtp %q: %w", c.LMTPAddr, err))
	}
	if err := CheckMailDomain(c.MailDomain); c.MailDomain != "" && err != nil {
		errs = append(errs, fmt.Errorf("-mail-domain %q: %w", c.MailDomain, err))
	}
	if err := CheckLogFormat(c.LogFormat); err != nil {
		errs = append(errs, fmt.Errorf("-log-format %q: %w", c.LogFormat, err))
	}
	if err := CheckLogLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("-log-level %q: %w", c.LogLevel, err))
	}
	return errors.Join(errs...)
}

// CheckHTTPAddr tells whether addr can be a Config's HTTPAddr, for a
// command line that checks each setting as it reads it.
func CheckHTTPAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return errors.New("not a host:port address")
	}
	return nil
}

// CheckLMTPAddr tells whether addr can be a Config's LMTPAddr: "" (none),
// "unix:/absolute/path" or host:port.
func CheckLMTPAddr(addr string) error {
	if addr == "" {
		return nil
	}
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if !strings.HasPrefix(path, "/") {
			return errors.New("a unix socket needs an absolute path (unix:/run/placette/lmtp.sock)")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return errors.New("not unix:/path nor a host:port address")
	}
	return nil
}

// CheckMailDomain tells whether name can be a Config's MailDomain.
func CheckMailDomain(name string) error {
	if name == "" || len(name) > 253 || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return errors.New("not a domain name")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not a domain name")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return errors.New("not a domain name (letters, digits, - and . only)")
			}
		}
	}
	return nil
}

// CheckLogFormat tells whether format can be a Config's LogFormat.
func CheckLogFormat(format string) error {
	switch format {
	case "text", "json":
		return nil
	}
	return errors.New("must be text or json")
}

// CheckLogLevel tells whether level can be a Config's LogLevel.
func CheckLogLevel(level string) error {
	switch level {
	case "debug", "info", "warn", "error":
		return nil
	}
	return errors.New("must be debug, info, warn or error")
}
