// Package resident gives back to the kernel the pages placette has mapped
// but does not need while it is at rest.
//
// A process's resident memory (RSS) counts, besides its own heap, every
// page of a file it has mapped and touched: the executable, the bbolt
// database and the search index's segments. The kernel maps those pages
// generously (a page cache filled by a recent write holds large folios,
// and one touch maps a whole folio: one read of a freshly written index
// segment mapped 3 of its 4 MB), and keeps them mapped until memory runs
// short. At rest, placette needs a small part of them: [Release] and
// [ReleaseExecutable] unmap the rest from the process. The pages are
// clean copies of the files, so nothing is lost: they stay in the
// kernel's page cache, shared and reclaimable, and the next read maps them
// again. Unmapped, they are also the first the kernel reclaims when
// another program needs the memory.
//
// The advice is Linux's (madvise MADV_DONTNEED); elsewhere the functions
// do nothing.
package resident
