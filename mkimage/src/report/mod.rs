//! What `build` and `pack` report about the image they wrote: the
//! numbers ([`stats`]), the directories with the most data ([`largest`])
//! and the size warnings ([`limits`]), put together by [`summary`].

pub mod largest;
pub mod limits;
pub mod stats;
pub mod summary;
