//! Unit tests, compiled only under `#[cfg(test)]` (see `mod tests` in the parent module).
