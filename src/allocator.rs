//! The process's memory allocator: mimalloc, for every binary that links
//! this crate (the server and its tests alike).
//!
//! A request allocates hundreds of small, short-lived objects (async-graphql
//! values and futures, JSON, strings). Under glibc's malloc, malloc and free
//! were about a third of a 50-message page's instructions (callgrind: the
//! page fell from 3.37 M to 2.57 M instructions with mimalloc) and a fifth
//! of a live delivery's CPU (BENCHMARKS.md).
//!
//! Built without transparent huge pages (`no_thp`): with them, every thread
//! that allocates touches whole 2 MiB pages, and the idle server's RSS went
//! from 21 to 32 MiB.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands the memory the calling thread has freed back to the OS now.
///
/// mimalloc keeps a thread's freed memory for that thread's next
/// allocations. That is what makes it fast, but an argon2id hash frees a
/// 19 MiB block, and each hashing thread would otherwise keep one for good
/// (+38 MiB of RSS after the first logins). The hashing threads call this
/// after a hash when no other hash is waiting.
pub fn release_freed_memory() {
    // SAFETY: mi_collect only walks and trims the calling thread's own
    // heap; it takes no pointers and has no preconditions.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
