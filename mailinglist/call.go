package mailinglist

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"codeberg.org/placette/placette/internal/control"
)

// ServeCall runs the "list" and "dns" commands of the control socket (see
// DESIGN.md's command line); a file to import comes on Stdin, an export
// goes to Stdout, progress to Stderr.
//
//	list create NAME [-title T] [-private] [-domain D] [-policy P] [-moderator ADDR]...
//	list members NAME [add ADDR... | remove ADDR... | export]
//	list import NAME FILENAME     (the file on Stdin; FILENAME tells .eml from mbox)
//	list export NAME              (mboxrd on Stdout)
//	dns [-check]                  (the records to publish, zone-file style)
func (s *Service) ServeCall(ctx context.Context, c *control.Call) error {
	stdout, stderr := c.Stdout, c.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	switch c.Name {
	case "dns":
		return s.callDNS(ctx, c.Args, stdout)
	case "list":
	default:
		return fmt.Errorf("unknown command %q", c.Name)
	}
	if len(c.Args) == 0 {
		return errors.New("list: create, members, import or export?")
	}
	args := c.Args[1:]
	switch c.Args[0] {
	case "create":
		return s.callCreate(args, stdout)
	case "members":
		return s.callMembers(args, stdout)
	case "import":
		if len(args) < 1 {
			return errors.New("list import takes a list NAME and a file")
		}
		in := c.Stdin
		if in == nil {
			in = strings.NewReader("")
		}
		res, err := s.Import(ctx, args[0], in, stderr)
		for _, b := range res.Broken {
			fmt.Fprintln(stderr, "skipped:", b)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d messages imported into %s, %d already there, %d skipped\n", res.Added, args[0], res.Already, len(res.Broken))
		return nil
	case "export":
		if len(args) != 1 {
			return errors.New("list export takes a list NAME")
		}
		n, err := s.Export(ctx, args[0], stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%d messages exported\n", n)
		return nil
	}
	return fmt.Errorf("list: unknown command %q (create, members, import, export)", c.Args[0])
}

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (f *stringsFlag) String() string     { return strings.Join(*f, ",") }
func (f *stringsFlag) Set(v string) error { *f = append(*f, v); return nil }

// callCreate runs "list create".
func (s *Service) callCreate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("list create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var l List
	var mods stringsFlag
	fs.StringVar(&l.Title, "title", "", "the list's title")
	fs.BoolVar(&l.Private, "private", false, "archive for members only")
	fs.StringVar(&l.Domain, "domain", "", "mail domain")
	policy := fs.String("policy", string(PolicyMembers), "who may post: members, anyone, moderated, announce")
	fs.Var(&mods, "moderator", "a moderator's address (repeatable)")
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("list create: %w", err)
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("list create: unexpected %q", fs.Arg(0))
	}
	if name == "" {
		return errors.New("list create takes a list NAME")
	}
	l.Name, l.Policy, l.Moderators = name, Policy(*policy), strings.Join(mods, ",")
	if err := s.CreateList(l); err != nil {
		return fmt.Errorf("list create %s: %w", name, err)
	}
	got, err := s.List(name)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "list %s created: %s\n", got.Name, got.Address())
	return err
}

// callMembers runs "list members".
func (s *Service) callMembers(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("list members takes a list NAME")
	}
	name := args[0]
	if len(args) == 1 {
		ms, err := s.Members(name)
		if err != nil {
			return err
		}
		for _, m := range ms {
			line := m.Addr
			if m.Mode != ModeEach {
				line += "\t" + string(m.Mode)
			}
			if _, err := fmt.Fprintln(stdout, line); err != nil {
				return err
			}
		}
		return nil
	}
	switch args[1] {
	case "export":
		return s.ExportMembers(name, stdout)
	case "add", "remove":
		if len(args) < 3 {
			return fmt.Errorf("list members %s %s takes addresses", name, args[1])
		}
		var errs []error
		done := 0
		for _, a := range args[2:] {
			var err error
			if args[1] == "add" {
				err = s.AddMember(name, Member{Addr: a})
			} else {
				err = s.RemoveMember(name, a)
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			done++
		}
		verb := "added to"
		if args[1] == "remove" {
			verb = "removed from"
		}
		fmt.Fprintf(stdout, "%d %s %s\n", done, verb, name)
		return errors.Join(errs...)
	}
	return fmt.Errorf("list members: unknown command %q (add, remove, export)", args[1])
}

// callDNS runs "dns".
func (s *Service) callDNS(ctx context.Context, args []string, stdout io.Writer) error {
	check := false
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "check":
			check = true
		default:
			return fmt.Errorf("dns: unknown argument %q (-check)", a)
		}
	}
	ds, err := s.domains()
	if err != nil {
		return err
	}
	for _, d := range ds {
		recs, err := s.DNSRecords(ctx, d, check)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "; mail of the lists at %s; also publish A/AAAA records for %s\n", d, s.mailHost(d))
		if err := writeZone(stdout, recs); err != nil {
			return err
		}
	}
	return nil
}
