//go:build !linux

package store

import "go.etcd.io/bbolt"

// releaseMapping does nothing here: the advice it gives is Linux's.
func releaseMapping(db *bbolt.DB, path string) {}
