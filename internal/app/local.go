package app

import (
	"context"
	"errors"
	"time"

	"codeberg.org/placette/placette/internal/account"
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
		accounts, err := account.NewStore(db)
		if err != nil {
			return err
		}
		return (&Ops{DB: db, Accounts: accounts}).ServeCall(ctx, c)
	})
}
