package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/account"
	"codeberg.org/placette/placette/internal/control"
	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/search"
)

// Ops runs the commands of the control socket against the database: in the
// server when it runs, in the command's own process when it does not. Each
// command takes its input (a password, a file's contents) from the call's
// Stdin and writes its result to Stdout, so that it never opens the
// caller's files: the server may run as another user.
type Ops struct {
	DB       *store.DB
	Accounts *account.Store
	Wiki     control.Handler // the "wiki" commands
	Lists    control.Handler // the "list" and "dns" commands
	// Status gives the server's state for the "doctor" command; can be
	// nil.
	Status web.StatusSource
	// Index is the search index, for the "reindex" command.
	Index *search.Index
}

var _ control.Handler = (*Ops)(nil)

// ServeCall implements control.Handler.
func (o *Ops) ServeCall(ctx context.Context, c *control.Call) error {
	switch c.Name {
	case "backup":
		return o.backup(c)
	case "user-add":
		return o.userAdd(c)
	case "wiki":
		return o.Wiki.ServeCall(ctx, c)
	case "list", "dns":
		return o.Lists.ServeCall(ctx, c)
	case "doctor":
		return o.doctor(ctx, c)
	case "reindex":
		return o.reindex(ctx, c)
	}
	return fmt.Errorf("unknown command %q", c.Name)
}

// reindex rebuilds the search index from the database, with progress on
// the call's error stream.
func (o *Ops) reindex(ctx context.Context, c *control.Call) error {
	if len(c.Args) != 0 {
		return errors.New("reindex takes no arguments")
	}
	if err := o.Index.Rebuild(ctx, c.Stderr); err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	n, err := o.Index.DocCount()
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	fmt.Fprintf(c.Stdout, "reindex: %d documents in the index\n", n)
	return nil
}

// backup writes a consistent copy of the database to the call's output.
func (o *Ops) backup(c *control.Call) error {
	if len(c.Args) != 0 {
		return errors.New("backup takes no arguments")
	}
	n, err := o.DB.Backup(c.Stdout)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(c.Stderr, "backup: %d bytes\n", n)
	return nil
}

// userAdd creates an account: args [-admin] [-moderator] LOGIN, the
// password on the first line of the input.
func (o *Ops) userAdd(c *control.Call) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	admin := fs.Bool("admin", false, "")
	moderator := fs.Bool("moderator", false, "")
	if err := fs.Parse(c.Args); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	if fs.NArg() != 1 {
		return errors.New("user add takes one login")
	}
	line, err := bufio.NewReader(io.LimitReader(c.Stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("user add: read password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	a, err := o.Accounts.Create(fs.Arg(0), password, *admin, *moderator)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	role := "no role"
	switch {
	case a.Admin:
		role = "administrator"
	case a.Moderator:
		role = "moderator"
	}
	fmt.Fprintf(c.Stdout, "account %q created (%s)\n", a.Login, role)
	return nil
}

// doctor prints the server's state, as the administration's index shows
// it: args [-no-dns] leaves DNS unasked.
func (o *Ops) doctor(ctx context.Context, c *control.Call) error {
	check := true
	for _, a := range c.Args {
		switch strings.TrimLeft(a, "-") {
		case "no-dns":
			check = false
		default:
			return fmt.Errorf("doctor: unknown argument %q (-no-dns)", a)
		}
	}
	if o.Status == nil {
		return errors.New("doctor: no status here")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := o.Status.Status(ctx, check)
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	return writeStatus(c.Stdout, st)
}
