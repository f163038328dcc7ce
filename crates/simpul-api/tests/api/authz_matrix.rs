//! The authorization matrix (placeholder while the suite compiles).
