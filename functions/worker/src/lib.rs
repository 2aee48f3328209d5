#![allow(clippy::all)]
