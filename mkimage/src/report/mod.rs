//! What `build` and `pack` report about the image they wrote: the
//! numbers ([`stats`]), the directories with the most data ([`largest`])
//! and the size warnings ([`limits`]), put together by [`summary`].

pub(crate) mod largest;
pub(crate) mod limits;
pub(crate) mod stats;
pub(crate) mod summary;
