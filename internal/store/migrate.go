package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// ErrTooNew is returned, wrapped with the component and both versions, when
// the database holds a schema version greater than the migrations this
// placette knows: a newer placette wrote it.
var ErrTooNew = errors.New("the database was written by a newer version of placette")

// metaBucket is the store's bucket; see the package documentation.
var metaBucket = []byte("meta")

// createdKey holds the creation time of the database in metaBucket.
var createdKey = []byte("created")

// schemaKey returns the key of component's schema version in metaBucket.
func schemaKey(component string) []byte {
	return []byte("schema/" + component)
}

// Migration is one step of a component's schema history.
type Migration struct {
	// Name says what the migration does; it appears in errors.
	Name string

	// Up applies the migration. It runs inside the write transaction that
	// also records the new version, so if it returns an error nothing it
	// did is kept. It must not commit or roll back tx.
	Up func(tx *bbolt.Tx) error
}

// Migrate brings component's schema to len(migrations), running the missing
// ones in order, each in its own transaction together with the version
// bump. Migrations are append-only: never edit or reorder a released one.
// If the stored version is greater than len(migrations) (a newer placette
// wrote this database), it returns an error wrapping [ErrTooNew], saying
// both versions. On a read-only database, Migrate fails if any migration is
// missing. Migrate is safe to call concurrently; each migration still runs
// once.
func (db *DB) Migrate(component string, migrations []Migration) error {
	if component == "" {
		return errors.New("migrate: empty component name")
	}
	for i, m := range migrations {
		if m.Up == nil {
			return fmt.Errorf("migrate %s: migration %d (%s) has no Up function", component, i+1, m.Name)
		}
	}
	known := len(migrations)
	current, err := db.SchemaVersion(component)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	if current > known {
		return tooNew(component, current, known)
	}
	if current == known {
		return nil
	}
	if db.IsReadOnly() {
		return fmt.Errorf("migrate %s from version %d to %d: the database is open read-only", component, current, known)
	}
	for {
		done := false
		err := db.Update(func(tx *bbolt.Tx) error {
			// Read the version again inside the transaction: another
			// goroutine may have migrated meanwhile.
			v, err := schemaVersion(tx, component)
			if err != nil {
				return err
			}
			if v > known {
				return tooNew(component, v, known)
			}
			if v == known {
				done = true
				return nil
			}
			m := migrations[v]
			if err := m.Up(tx); err != nil {
				return fmt.Errorf("migration %d (%s): %w", v+1, m.Name, err)
			}
			return setSchemaVersion(tx, component, v+1)
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", component, err)
		}
		if done {
			return nil
		}
	}
}

// SchemaVersion returns the number of component's migrations applied to the
// database, 0 for a component that never migrated.
func (db *DB) SchemaVersion(component string) (int, error) {
	var v int
	err := db.View(func(tx *bbolt.Tx) error {
		var err error
		v, err = schemaVersion(tx, component)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("schema version of %s: %w", component, err)
	}
	return v, nil
}

// tooNew returns the error for a database whose version of component is
// stored, greater than known.
func tooNew(component string, stored, known int) error {
	return fmt.Errorf("schema %s is at version %d but this placette knows only up to version %d: %w", component, stored, known, ErrTooNew)
}

// schemaVersion reads component's version in tx.
func schemaVersion(tx *bbolt.Tx, component string) (int, error) {
	b := tx.Bucket(metaBucket)
	if b == nil {
		return 0, nil
	}
	raw := b.Get(schemaKey(component))
	if raw == nil {
		return 0, nil
	}
	if len(raw) != 8 {
		return 0, fmt.Errorf("corrupt %s/%s: %d bytes, want 8", metaBucket, schemaKey(component), len(raw))
	}
	v := binary.BigEndian.Uint64(raw)
	// An int is 32 bits on some of the machines placette runs on.
	const maxInt = int(^uint(0) >> 1)
	if v > uint64(maxInt) {
		return 0, fmt.Errorf("corrupt %s/%s: version %d out of range", metaBucket, schemaKey(component), v)
	}
	return int(v), nil
}

// setSchemaVersion records component's version in tx.
func setSchemaVersion(tx *bbolt.Tx, component string, v int) error {
	b := tx.Bucket(metaBucket)
	if b == nil {
		return fmt.Errorf("set schema version of %s: no %s bucket", component, metaBucket)
	}
	var raw [8]byte
	binary.BigEndian.PutUint64(raw[:], uint64(v))
	if err := b.Put(schemaKey(component), raw[:]); err != nil {
		return fmt.Errorf("set schema version of %s: %w", component, err)
	}
	return nil
}
