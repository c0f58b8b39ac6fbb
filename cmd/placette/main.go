// Command placette runs a small community's collaboration space: an
// open-write wiki, archived mailing lists and search over both, from one
// binary and one data folder. See DESIGN.md for its commands and modes.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"codeberg.org/placette/placette/internal/app"
	"codeberg.org/placette/placette/internal/control"
	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usage = `Usage: placette [command] [flags]

Commands:
  serve                  run placette (the default command)
  user add LOGIN [-admin] [-moderator]
                         create an account; the password is asked for, or read from standard input
  wiki import DIR|FILE.zip|FILE.md
                         import markdown pages (front matter kept) and the files they reference
  wiki export [-o FILE.zip]
                         export every page as markdown with front matter, attachments included
  list create NAME [-title T] [-private]
  list members NAME [add ADDR... | remove ADDR... | export]
  list import NAME FILE.mbox
                         import an existing archive (mbox or .eml)
  list export NAME [-o FILE.mbox]
  dns                    print the DNS records to publish for the lists' mail domain
  doctor [-no-dns]       print the server's state: certificates, DNS, mail queue, disk
  reindex                rebuild the search index from the database, with progress
  backup FILE            write a consistent copy of the database to FILE, even while placette runs
  version                print the version

Every command takes -data DIR (default ./placette-data, or $PLACETTE_DATA).
Run "placette serve -h" for the server's flags.
`

// Main runs placette with args and returns the exit code. It reads the
// environment only through getenv.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	args = dataFirst(args)
	cmd := "serve"
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || isHelp(args[0])) {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, stderr, getenv)
	case "user":
		if len(args) == 0 || args[0] != "add" {
			fmt.Fprint(stderr, "placette: user: unknown or missing subcommand (want: user add LOGIN)\n\n"+usage)
			return exitUsage
		}
		err = userAdd(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "backup":
		err = backup(ctx, args, stderr, getenv)
	case "wiki", "list", "dns", "doctor", "reindex":
		err = forward(ctx, cmd, args, stdin, stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, "placette", app.Version)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "placette: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		if !ue.shown {
			fmt.Fprintf(stderr, "placette: %v\n", err)
		}
		return exitUsage
	default:
		fmt.Fprintf(stderr, "placette: %v\n", err)
		return exitError
	}
}

// commands are the names Main knows.
var commands = map[string]bool{"serve": true, "user": true, "wiki": true, "list": true, "dns": true, "doctor": true, "reindex": true, "backup": true, "version": true, "help": true}

// dataFirst accepts the data folder before the command, "placette -data
// DIR wiki export", by moving the flag to the end of the command's own
// arguments, where every command reads it.
func dataFirst(args []string) []string {
	n := 0 // the flag's length: 1 for -data=DIR, 2 for -data DIR
	switch {
	case len(args) > 0 && (strings.HasPrefix(args[0], "-data=") || strings.HasPrefix(args[0], "--data=")):
		n = 1
	case len(args) > 1 && (args[0] == "-data" || args[0] == "--data"):
		n = 2
	}
	if n == 0 || len(args) == n || !commands[args[n]] {
		return args
	}
	out := append([]string{}, args[n:]...)
	return append(out, args[:n]...)
}

// isHelp reports whether arg asks for help: "placette -h" lists the
// commands, where "placette serve -h" lists the server's flags.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct {
	error
	shown bool // the flag package has printed it already, with the usage
}

// newFlags returns a flag set for cmd whose flags also read PLACETTE_*
// environment variables (-data = PLACETTE_DATA, -behind-proxy =
// PLACETTE_BEHIND_PROXY); a flag given on the command line wins.
func newFlags(cmd string, stderr io.Writer, extraUsage string) *flag.FlagSet {
	fs := flag.NewFlagSet("placette "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: placette %s%s\n\nFlags (each also read from PLACETTE_<NAME>):\n", cmd, extraUsage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags applies the environment, then args, to fs.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		if v := getenv(name); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = usageError{error: fmt.Errorf("%s=%q: %w", name, v, err)}
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{error: err, shown: true}
	}
	return nil
}

// envName returns the environment variable of a flag: PLACETTE_DATA for
// -data, PLACETTE_BEHIND_PROXY for -behind-proxy.
func envName(flag string) string {
	return "PLACETTE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// domainsFlag is -domain: comma-separated names, checked as they are set.
type domainsFlag struct{ p *[]string }

func (f domainsFlag) String() string {
	if f.p == nil {
		return ""
	}
	return strings.Join(*f.p, ",")
}

func (f domainsFlag) Set(v string) error {
	d, err := app.ParseDomains(v)
	if err != nil {
		return err
	}
	*f.p = d
	return nil
}

// checkedFlag is a string flag whose value is checked as it is set, so
// that a bad value is reported with where it came from: the command line
// or its PLACETTE_* variable.
type checkedFlag struct {
	p     *string
	check func(string) error
}

func (f checkedFlag) String() string {
	if f.p == nil {
		return ""
	}
	return *f.p
}

func (f checkedFlag) Set(v string) error {
	if err := f.check(v); err != nil {
		return err
	}
	*f.p = v
	return nil
}

func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", app.DefaultDataDir, "data folder")
}

func serve(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	cfg := app.DefaultConfig()
	fs := newFlags("serve", stderr, " [flags]")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data folder")
	fs.Var(checkedFlag{&cfg.HTTPAddr, app.CheckHTTPAddr}, "http", "HTTP listener `address`")
	fs.Var(checkedFlag{&cfg.SMTPAddr, app.CheckHTTPAddr}, "smtp", "SMTP listener `address` for the lists' mail")
	fs.Var(checkedFlag{&cfg.SMTPSAddr, app.CheckHTTPAddr}, "smtps", "SMTP listener `address` with implicit TLS (usually :465), in public or LAN mode")
	fs.Var(checkedFlag{&cfg.LMTPAddr, app.CheckLMTPAddr}, "lmtp", "LMTP listener `address` (unix:/path or host:port) instead of SMTP, for a local MTA")
	fs.Var(checkedFlag{&cfg.MailDomain, app.CheckMailDomain}, "mail-domain", "the lists' mail `domain`")
	fs.BoolVar(&cfg.BehindProxy, "behind-proxy", false, "serve plain HTTP behind a reverse proxy on this machine, trusting its X-Forwarded-* headers")
	fs.Var(domainsFlag{&cfg.Domains}, "domain", "public mode: the site's `names`, comma-separated, to serve and get certificates for (the first is the main one)")
	fs.Var(checkedFlag{&cfg.HTTPSAddr, app.CheckHTTPAddr}, "https", "HTTPS listener `address` in public and LAN modes (default :443)")
	fs.Var(checkedFlag{&cfg.ACMEEmail, app.CheckEmail}, "acme-email", "public mode: contact `address` of the ACME account (expiry warnings)")
	fs.Var(checkedFlag{&cfg.ACMECA, app.CheckACMECA}, "acme-ca", "public mode: ACME directory `URL` (default Let's Encrypt)")
	fs.BoolVar(&cfg.LocalCA, "local-ca", false, "LAN mode: HTTPS with certificates from a local certificate authority placette creates")
	fs.Var(checkedFlag{&cfg.LogFormat, app.CheckLogFormat}, "log-format", "log `format`: text or json")
	fs.Var(checkedFlag{&cfg.LogLevel, app.CheckLogLevel}, "log-level", "log `level`: debug, info, warn or error")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{error: fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))}
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if getenv(envName(f.Name)) != "" {
			explicit[f.Name] = true
		}
	})
	cfg = cfg.WithModeDefaults(func(name string) bool { return explicit[name] })
	if err := cfg.Validate(); err != nil {
		return usageError{error: err}
	}
	logger := newLogger(cfg, stderr)
	a := app.New(cfg, logger)
	if err := a.Start(ctx); err != nil {
		return err
	}
	return a.Wait(ctx)
}

func newLogger(cfg app.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func userAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlags("user add", stderr, " LOGIN [-admin] [-moderator]")
	data := dataFlag(fs)
	admin := fs.Bool("admin", false, "make the account an administrator")
	moderator := fs.Bool("moderator", false, "make the account a moderator")
	// Accept the login before or after the flags.
	var login string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		login, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	rest := fs.Args()
	if login == "" && len(rest) > 0 {
		login, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return usageError{error: fmt.Errorf("user add: unexpected argument %q", rest[0])}
	}
	if login == "" {
		return usageError{error: errors.New("user add: a LOGIN is needed")}
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	var callArgs []string
	if *admin {
		callArgs = append(callArgs, "-admin")
	}
	if *moderator {
		callArgs = append(callArgs, "-moderator")
	}
	callArgs = append(callArgs, "--", login)
	return app.Call(ctx, *data, &control.Call{
		Name:   "user-add",
		Args:   callArgs,
		Stdin:  strings.NewReader(password + "\n"),
		Stdout: stdout,
		Stderr: stderr,
	})
}

// readPassword asks for a password twice on a terminal, without echo, or
// reads its first line from a pipe.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "Password again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(p1) != string(p2) {
			return "", errors.New("the two passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}

func backup(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) (err error) {
	fs := newFlags("backup", stderr, " FILE")
	data := dataFlag(fs)
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 || file == "" {
		return usageError{error: errors.New("backup takes one FILE")}
	}
	dbInfo, err := os.Stat(app.DBPath(*data))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup: no placette database in %s (no %s there)", *data, app.DBFile)
	} else if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// Renaming the copy over the database would leave a running server
	// writing to a file that no longer has a name.
	if fi, err := os.Stat(file); err == nil && os.SameFile(fi, dbInfo) {
		return fmt.Errorf("backup: %s is the database itself; write the backup elsewhere", file)
	}
	err = writeAtomic(file, func(w io.Writer) error {
		return app.Call(ctx, *data, &control.Call{Name: "backup", Stdout: w, Stderr: io.Discard})
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stderr, "backup written to %s\n", file)
	return nil
}

// syncDir flushes the directory dir, and so the names in it, to the disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	if err := d.Sync(); err != nil {
		return errors.Join(fmt.Errorf("sync folder %s: %w", dir, err), d.Close())
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}
