//! Integration tests of the population generator through its public interface only.

mod common;
mod errors;
mod population;
mod regions;
