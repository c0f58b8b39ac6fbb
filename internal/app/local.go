package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"codeberg.org/placette/placette/internal/control"
)

// Call runs the control command c against the data folder dir: through the
// running server's socket, or, when no server runs, by opening the database
// in this process.
func Call(ctx context.Context, dir string, c *control.Call) error {
	return control.Run(ctx, SocketPath(dir), c, func(ctx context.Context, c *control.Call) (err error) {
		db, err := OpenData(dir, 2*time.Second)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, db.Close()) }()
		cfg := DefaultConfig()
		cfg.DataDir = dir
		// No server: the lists use the mail domain and address the server
		// last ran with, which they keep.
		cfg.MailDomain = ""
		p, err := build(db, cfg, "", nil, slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, p.close()) }()
		return p.ops.ServeCall(ctx, c)
	})
}
