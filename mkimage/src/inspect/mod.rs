//! Reading images back: `segments` walks an image's segments entry by
//! entry, for `mkimage list` ([`list`]) and `mkimage extract`
//! (`extract`).

pub(crate) mod extract;
pub mod list;
pub(crate) mod segments;
