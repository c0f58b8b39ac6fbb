package store

import (
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// storeComponent is the component name of the store's own schema.
const storeComponent = "store"

// storeMigrations is the schema history of the meta bucket.
//
// This list is append-only: never edit, reorder or remove a migration once
// it has been released, since databases in the field have already run it.
// Change the layout by appending a new migration.
func storeMigrations(now func() time.Time) []Migration {
	return []Migration{
		{
			Name: "create the meta bucket and record the creation time",
			Up: func(tx *bbolt.Tx) error {
				b, err := tx.CreateBucketIfNotExists(metaBucket)
				if err != nil {
					return fmt.Errorf("create bucket %s: %w", metaBucket, err)
				}
				created := now().UTC().Format(time.RFC3339)
				if err := b.Put(createdKey, []byte(created)); err != nil {
					return fmt.Errorf("put %s: %w", createdKey, err)
				}
				return nil
			},
		},
	}
}
