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
	"sync"
	"syscall"
	"time"

	"codeberg.org/placette/placette/internal/account"
	"codeberg.org/placette/placette/internal/control"
	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
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

	db       *store.DB
	shell    *web.Shell
	accounts *account.Store
	accountH *account.Handler

	httpLn    net.Listener
	httpSrv   *http.Server
	controlLn net.Listener

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

	webCfg := web.Config{Secure: a.cfg.BehindProxy}
	if a.cfg.BehindProxy {
		webCfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	if a.shell, err = web.NewShell(a.db, webCfg, a.logger.With("component", "web")); err != nil {
		return err
	}
	if a.accounts, err = account.NewStore(a.db); err != nil {
		return err
	}
	if a.accountH, err = account.NewHandler(a.shell, a.accounts); err != nil {
		return err
	}
	mux := http.NewServeMux()
	web.NewHandler(a.shell, a.db).Routes(mux)
	a.accountH.Routes(mux)

	if a.httpLn, err = listen(a.cfg.HTTPAddr); err != nil {
		return err
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
	a.goRun(func() {
		if err := a.httpSrv.Serve(a.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.errc <- fmt.Errorf("web server: %w", err)
		}
	})
	ctl := &control.Server{
		Handler: &Ops{DB: a.db, Accounts: a.accounts},
		Logger:  a.logger.With("component", "control"),
	}
	a.goRun(func() {
		if err := ctl.Serve(ctx, a.controlLn); err != nil {
			a.errc <- fmt.Errorf("control socket: %w", err)
		}
	})
	a.goRun(func() { a.shell.Run(ctx) })

	a.logger.Info("placette started", "version", Version, "data", dir, "url", a.URL())
	if path, err := a.accountH.SetupPath(); err != nil {
		return err
	} else if path != "" {
		a.logger.Warn("no administrator yet: open this one-time link to create the first one", "url", a.URL()+path)
	}
	return nil
}

func (a *App) goRun(f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

// listen listens on addr, saying clearly when the port is taken.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("cannot listen on %s: the address is already in use (is placette already running? choose another with -http)", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

// URL returns the base URL of the web listener, for links in the log.
func (a *App) URL() string {
	if a.httpLn == nil {
		return ""
	}
	ap, err := netip.ParseAddrPort(a.httpLn.Addr().String())
	if err != nil {
		return "http://" + a.httpLn.Addr().String()
	}
	if ap.Addr().IsUnspecified() {
		ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), ap.Port())
	}
	return "http://" + ap.String()
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
		if a.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := a.httpSrv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stop web server: %w", err))
			}
			cancel()
		} else if a.httpLn != nil {
			a.httpLn.Close()
		}
		if a.cancel != nil {
			a.cancel()
		} else if a.controlLn != nil {
			a.controlLn.Close()
		}
		a.wg.Wait()
		if a.db != nil {
			if err := a.db.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}
