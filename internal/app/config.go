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
	// LogFormat is "text" or "json".
	LogFormat string
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string
}

// Defaults of the local mode: nothing to set to try placette.
const (
	DefaultDataDir  = "./placette-data"
	DefaultHTTPAddr = "127.0.0.1:8080"
)

// DefaultConfig returns the configuration of the local mode.
func DefaultConfig() Config {
	return Config{DataDir: DefaultDataDir, HTTPAddr: DefaultHTTPAddr, LogFormat: "text", LogLevel: "info"}
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
