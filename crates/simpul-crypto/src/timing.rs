//! Rough cost of seal, open and blind, printed, never asserted (timings vary by machine).
//!
//! `cargo test -p simpul-crypto -- --ignored --nocapture timing` prints nanoseconds per
//! operation, to estimate what blind indexes and sealed fields cost NIK verification.

use std::hint::black_box;
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::{BlindIndexKey, DataKey, FieldContext, KeyId, KeyRing, SealedValue};

const ROUNDS: u32 = 20_000;

fn per_op(label: &str, mut op: impl FnMut()) {
    // Warm caches and branch predictors before measuring.
    for _ in 0..ROUNDS / 10 {
        op();
    }
    let start = Instant::now();
    for _ in 0..ROUNDS {
        op();
    }
    let nanos = start.elapsed().as_nanos() / u128::from(ROUNDS);
    println!("{label:<40} {nanos:>8} ns/op");
}

#[test]
#[ignore = "prints timings; run on demand"]
fn timing() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let ring = KeyRing::new(KeyId::parse("k1")?, DataKey::generate(&mut rng));
    let blind_key = BlindIndexKey::generate(&mut rng);
    let nik = simpul_domain::Nik::try_from("3577011708450001".to_owned())?;
    let row = blind_key.blind_nik(&nik);
    let ctx = FieldContext::for_row("residents", "full_name", &row);
    let name = b"SITI NURAINI BINTI ABDULLAH";
    let sealed = ring.seal(&mut rng, &ctx, name)?;
    let text = sealed.to_string();

    per_op("blind NIK (HMAC-SHA256)", || {
        black_box(blind_key.blind_nik(black_box(&nik)));
    });
    per_op("blind name tokens (4 words)", || {
        black_box(blind_key.blind_name_tokens(black_box("SITI NURAINI BINTI ABDULLAH")));
    });
    per_op("seal 27-byte name, to text", || {
        let sealed = ring.seal(&mut rng, &ctx, black_box(name));
        black_box(sealed.map(|s| s.to_string()).ok());
    });
    per_op("parse text and open 27-byte name", || {
        let opened = SealedValue::parse(black_box(&text))
            .map_err(crate::OpenError::from)
            .and_then(|value| ring.open_text(&ctx, &value));
        black_box(opened.ok());
    });
    Ok(())
}
