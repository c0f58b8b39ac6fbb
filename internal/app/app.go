package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"codeberg.org/placette/placette/internal/account"
	"codeberg.org/placette/placette/internal/control"
	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/mailinglist"
	"codeberg.org/placette/placette/search"
	"codeberg.org/placette/placette/wiki"
)

// Version is placette's version, set at build time with
// -ldflags "-X codeberg.org/placette/placette/internal/app.Version=…".
var Version = "dev"

// File names inside the data folder.
const (
	DBFile     = "placette.db"
	SocketFile = "placette.sock"
)

// App is a running placette: one database, its web listener and its control
// socket. Start it, then Wait or Close.
type App struct {
	cfg    Config
	logger *slog.Logger

	db *store.DB
	*parts

	httpLn    net.Listener
	httpSrv   *http.Server // the site: on httpsLn in public and LAN modes, else on httpLn
	httpsLn   net.Listener // public and LAN modes; else nil
	plainSrv  *http.Server // public and LAN modes: challenges and redirects on httpLn
	mailLn    net.Listener // SMTP or LMTP; can be nil
	smtpsLn   net.Listener // SMTP with implicit TLS; can be nil
	controlLn net.Listener
	tls       *tlsParts // the certificates of the public and LAN modes

	cancel context.CancelFunc
	wg     sync.WaitGroup // the app's goroutines
	errc   chan error     // the first listener error

	closeOnce sync.Once
	closeErr  error
}

// New returns an app for cfg that logs to logger.
func New(cfg Config, logger *slog.Logger) *App {
	return &App{cfg: cfg, logger: logger, errc: make(chan error, 2)}
}

// DBPath returns the database file of the data folder dir.
func DBPath(dir string) string { return filepath.Join(dir, DBFile) }

// SocketPath returns the control socket of the data folder dir.
func SocketPath(dir string) string { return filepath.Join(dir, SocketFile) }

// OpenData creates the data folder if needed and opens its database,
// turning the usual failures into one clear sentence each.
func OpenData(dir string, timeout time.Duration) (*store.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the data folder %s: %w", dir, err)
	}
	if err := checkWritable(dir); err != nil {
		return nil, err
	}
	db, err := store.Open(DBPath(dir), store.Options{Timeout: timeout})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("the data folder %s is in use by another placette process (stop it, or use another -data folder)", dir)
	}
	return db, err
}

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("the data folder %s is not writable by this user: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Start opens the data folder, builds the handlers and starts listening. On
// error, everything it opened is closed again.
func (a *App) Start(ctx context.Context) (err error) {
	if err := a.cfg.Validate(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	dir, err := filepath.Abs(a.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data folder %s: %w", a.cfg.DataDir, err)
	}
	a.cfg.DataDir = dir
	if a.db, err = OpenData(dir, time.Second); err != nil {
		return err
	}

	if a.httpLn, err = listen(a.cfg.HTTPAddr); err != nil {
		return err
	}
	mode := a.cfg.Mode()
	if mode == ModePublic || mode == ModeLAN {
		if a.httpsLn, err = listenOn("-https", a.cfg.HTTPSAddr); err != nil {
			return err
		}
		if a.tls, err = newTLS(a.db, a.cfg, a.httpLn.Addr().String(), a.httpsLn.Addr().String(), a.logger); err != nil {
			return err
		}
	}
	if a.parts, err = build(a.db, a.cfg, a.BaseURL(), a.tls, a.logger); err != nil {
		return err
	}
	mux := http.NewServeMux()
	a.routes(mux)
	if a.mailLn, err = listenMail(a.cfg); err != nil {
		return err
	}
	if a.cfg.SMTPSAddr != "" && a.tls != nil {
		ln, err := listenOn("-smtps", a.cfg.SMTPSAddr)
		if err != nil {
			return err
		}
		a.smtpsLn = ln
	}
	if a.controlLn, err = control.Listen(SocketPath(dir)); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}

	ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	a.httpSrv = &http.Server{
		Handler:           a.shell.Wrap(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelDebug),
	}
	if a.tls == nil {
		a.goRun(func() {
			if err := a.httpSrv.Serve(a.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.errc <- fmt.Errorf("web server: %w", err)
			}
		})
	} else {
		a.httpSrv.TLSConfig = a.tls.web
		a.plainSrv = &http.Server{
			Handler:           a.tls.plainHandler(a.cfg, a.httpsLn.Addr().String()),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       time.Minute,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          a.httpSrv.ErrorLog,
		}
		a.goRun(func() {
			if err := a.httpSrv.ServeTLS(a.httpsLn, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.errc <- fmt.Errorf("web server (HTTPS): %w", err)
			}
		})
		a.goRun(func() {
			if err := a.plainSrv.Serve(a.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.errc <- fmt.Errorf("web server (HTTP): %w", err)
			}
		})
		if err := a.tls.start(ctx, a); err != nil {
			return err
		}
	}
	if a.mailLn != nil {
		serveMail := a.lists.ServeSMTP
		if a.cfg.LMTPAddr != "" {
			serveMail = a.lists.ServeLMTP
		}
		a.goRun(func() {
			if err := serveMail(ctx, a.mailLn); err != nil {
				a.errc <- fmt.Errorf("mail server: %w", err)
			}
		})
	}
	if a.smtpsLn != nil {
		a.goRun(func() {
			if err := a.lists.ServeSMTPS(ctx, a.smtpsLn); err != nil {
				a.errc <- fmt.Errorf("mail server (implicit TLS): %w", err)
			}
		})
	}
	ctl := &control.Server{
		Handler: a.ops,
		Logger:  a.logger.With("component", "control"),
	}
	a.goRun(func() {
		if err := ctl.Serve(ctx, a.controlLn); err != nil {
			a.errc <- fmt.Errorf("control socket: %w", err)
		}
	})
	a.goRun(func() { a.shell.Run(ctx) })
	a.goRun(func() { a.wiki.Run(ctx) })
	a.goRun(func() { a.lists.Run(ctx) })
	a.goRun(func() { a.index.Run(ctx) })
	a.goRun(func() { a.keepMemory(ctx) })

	a.logger.Info("placette started", "version", Version, "mode", string(mode), "data", dir, "url", a.BaseURL(), "listen", a.URL(), "mail", a.MailAddr())
	if path, err := a.accountH.SetupPath(); err != nil {
		return err
	} else if path != "" {
		a.logger.Warn("no administrator yet: open this one-time link to create the first one", "url", a.BaseURL()+path)
	}
	return nil
}

// parts are placette's packages built over one database: what the server
// serves, and what a command run without a server needs.
type parts struct {
	shell    *web.Shell
	accounts *account.Store
	accountH *account.Handler
	wiki     *wiki.Wiki
	lists    *mailinglist.Service
	index    *search.Index
	searchH  *search.Handler
	ops      *Ops
	status   *statusSource
}

// close closes what the parts hold open besides the database: the search
// index.
func (p *parts) close() error {
	if p == nil || p.index == nil {
		return nil
	}
	return p.index.Close()
}

// build makes the parts over db; baseURL is the absolute URL of the web
// pages, for links in mail and feeds; tp, the certificates of the public
// and LAN modes, can be nil.
func build(db *store.DB, cfg Config, baseURL string, tp *tlsParts, logger *slog.Logger) (_ *parts, err error) {
	p := &parts{}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	mode := cfg.Mode()
	webCfg := web.Config{Secure: mode != ModeLocal}
	if cfg.BehindProxy {
		webCfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	if p.shell, err = web.NewShell(db, webCfg, logger.With("component", "web")); err != nil {
		return nil, err
	}
	if p.accounts, err = account.NewStore(db); err != nil {
		return nil, err
	}
	if p.accountH, err = account.NewHandler(p.shell, p.accounts); err != nil {
		return nil, err
	}
	p.index, err = search.Open(search.Config{Dir: indexPath(cfg.DataDir), DB: db, Logger: logger.With("component", "search")})
	if err != nil {
		return nil, err
	}
	p.wiki, err = wiki.New(wiki.Config{DB: db, Shell: p.shell, Logger: logger.With("component", "wiki"), Indexer: wikiIndexer{p.index}})
	if err != nil {
		return nil, err
	}
	lc := mailinglist.Config{
		DB:         db,
		Shell:      p.shell,
		Logger:     logger.With("component", "lists"),
		DataDir:    cfg.DataDir,
		MailDomain: cfg.MailDomain,
		BaseURL:    baseURL,
		Indexer:    listIndexer{p.index},
	}
	if cfg.DNS != nil {
		lc.DNS = cfg.DNS
	}
	if tp != nil {
		lc.TLS = tp.mail
		if mode == ModePublic {
			lc.Hostname = cfg.Domains[0]
		}
	}
	if p.lists, err = mailinglist.New(lc); err != nil {
		return nil, err
	}
	p.index.SetSource(searchSource(p.wiki, p.lists))
	p.searchH, err = search.NewHandler(search.HandlerConfig{
		Index:      p.index,
		Shell:      p.shell,
		Visibility: searchVisibility(p.lists),
		Logger:     logger.With("component", "search"),
	})
	if err != nil {
		return nil, err
	}
	p.status = &statusSource{db: db, cfg: cfg, lists: p.lists, tls: tp, baseURL: baseURL}
	p.ops = &Ops{DB: db, Accounts: p.accounts, Wiki: p.wiki, Lists: p.lists, Status: p.status, Index: p.index}
	return p, nil
}

// routes registers every package's pages on mux.
func (p *parts) routes(mux *http.ServeMux) {
	h := web.NewHandler(p.shell, p.ops.DB)
	h.Wiki = p.wiki
	h.Lists = p.lists
	h.Status = p.status
	h.Routes(mux)
	if p.status.tls != nil && p.status.tls.ca != nil {
		mux.HandleFunc("GET /ca.crt", p.status.tls.serveRoot)
	}
	p.accountH.Routes(mux)
	p.wiki.Routes(mux)
	p.lists.Routes(mux)
	p.searchH.Routes(mux)
}

// listenMail opens the mail listener the configuration asks for: LMTP
// when LMTPAddr is set, else SMTP on SMTPAddr, else none.
func listenMail(cfg Config) (net.Listener, error) {
	if cfg.LMTPAddr != "" {
		if path, ok := strings.CutPrefix(cfg.LMTPAddr, "unix:"); ok {
			// A socket left by a process that died is in the way.
			if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
				os.Remove(path)
			}
			ln, err := net.Listen("unix", path)
			if err != nil {
				return nil, fmt.Errorf("cannot listen for LMTP on %s: %w", path, err)
			}
			return ln, nil
		}
		return listenOn("-lmtp", cfg.LMTPAddr)
	}
	if cfg.SMTPAddr == "" {
		return nil, nil
	}
	return listenOn("-smtp", cfg.SMTPAddr)
}

// SMTPSAddr returns the address of the implicit-TLS SMTP listener, ""
// when there is none.
func (a *App) SMTPSAddr() string {
	if a.smtpsLn == nil {
		return ""
	}
	return a.smtpsLn.Addr().String()
}

// MailAddr returns the address of the mail listener, "" when there is
// none.
func (a *App) MailAddr() string {
	if a.mailLn == nil {
		return ""
	}
	return a.mailLn.Addr().String()
}

func (a *App) goRun(f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

// listen listens on addr for HTTP, saying clearly when the port is taken.
func listen(addr string) (net.Listener, error) { return listenOn("-http", addr) }

// listenOn listens on addr, the value of flag, saying clearly when the
// port is taken.
func listenOn(flag, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("cannot listen on %s: the address is already in use (is placette already running? choose another with %s)", addr, flag)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

// URL returns the URL of the site's listener on this machine: the HTTPS
// listener in public and LAN modes ("https://127.0.0.1:443"), else the
// HTTP one ("http://127.0.0.1:8080").
func (a *App) URL() string {
	if a.httpsLn != nil {
		return "https://" + loopbackAddr(a.httpsLn.Addr())
	}
	if a.httpLn == nil {
		return ""
	}
	return "http://" + loopbackAddr(a.httpLn.Addr())
}

// loopbackAddr returns addr, with 127.0.0.1 for an unspecified address.
func loopbackAddr(addr net.Addr) string {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ap.Addr().IsUnspecified() {
		ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), ap.Port())
	}
	return ap.String()
}

// HTTPAddr returns the address of the plain HTTP listener.
func (a *App) HTTPAddr() string {
	if a.httpLn == nil {
		return ""
	}
	return a.httpLn.Addr().String()
}

// HTTPSAddr returns the address of the HTTPS listener, "" in local and
// proxy modes.
func (a *App) HTTPSAddr() string {
	if a.httpsLn == nil {
		return ""
	}
	return a.httpsLn.Addr().String()
}

// BaseURL returns the site's absolute URL as people reach it, without a
// trailing slash, for links in mail and in the log: https://DOMAIN in
// public mode (and behind a proxy given -domain), https://NAME[:PORT] in
// LAN mode, else the listener's URL.
func (a *App) BaseURL() string {
	switch {
	case len(a.cfg.Domains) > 0 && a.cfg.Mode() != ModeLAN:
		return "https://" + a.cfg.Domains[0]
	case a.tls != nil && a.tls.ca != nil:
		host := a.tls.names[0]
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		if _, port, _ := net.SplitHostPort(a.httpsLn.Addr().String()); port != "443" {
			host += ":" + port
		}
		return "https://" + host
	}
	return a.URL()
}

// DataDir returns the absolute path of the data folder.
func (a *App) DataDir() string { return a.cfg.DataDir }

// SetupPath returns the path of the first administrator's one-time page, or
// "" when there is an administrator.
func (a *App) SetupPath() (string, error) { return a.accountH.SetupPath() }

// Wait blocks until ctx is done or a listener fails, then closes the app.
func (a *App) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
		a.logger.Info("stopping")
	case err = <-a.errc:
		a.logger.Error("stopping after an error", "error", err)
	}
	return errors.Join(err, a.Close())
}

// Close stops serving, waits for every goroutine of the app, and closes
// the database. It is safe to call more than once.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		var errs []error
		if a.plainSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			a.plainSrv.Shutdown(ctx)
			cancel()
		}
		if a.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := a.httpSrv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stop web server: %w", err))
			}
			cancel()
		} else {
			for _, ln := range []net.Listener{a.httpLn, a.httpsLn} {
				if ln != nil {
					ln.Close()
				}
			}
		}
		if a.cancel == nil && a.mailLn != nil {
			a.mailLn.Close()
		}
		if a.cancel != nil {
			a.cancel()
		} else if a.controlLn != nil {
			a.controlLn.Close()
		}
		a.wg.Wait()
		for _, ln := range []net.Listener{a.httpLn, a.httpsLn} {
			if ln != nil {
				ln.Close() // in case Shutdown came before Serve
			}
		}
		if a.tls != nil {
			a.tls.stop()
		}
		if a.mailLn != nil {
			a.mailLn.Close()
		}
		if a.smtpsLn != nil {
			a.smtpsLn.Close()
		}
		if err := a.parts.close(); err != nil {
			errs = append(errs, fmt.Errorf("close the search index: %w", err))
		}
		if a.db != nil {
			if err := a.db.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}
