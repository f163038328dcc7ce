//! Password hashing with argon2id: hashing to a PHC string, verification, the dummy
//! verification that makes a missing account cost as much as a real one, and the check
//! that tells a caller to re-hash a password stored under weaker parameters.
//!
//! The parameters follow OWASP's Password Storage Cheat Sheet, whose minimum for argon2id is
//! 19 MiB of memory, 2 iterations and 1 degree of parallelism
//! (<https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id>).
//! See [`PasswordHasher::production`] for why we take exactly that minimum.

use std::fmt;

use argon2::password_hash::phc;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::CryptoRng;

/// OWASP's minimum memory cost for argon2id, in KiB (19 MiB).
pub const MIN_MEMORY_KIB: u32 = 19 * 1024;
/// OWASP's minimum number of passes over memory for argon2id at [`MIN_MEMORY_KIB`].
pub const MIN_ITERATIONS: u32 = 2;
/// OWASP's degree of parallelism for argon2id.
pub const MIN_PARALLELISM: u32 = 1;

/// The longest password, in bytes, that is ever hashed. Argon2 itself accepts up to 4 GiB;
/// the bound keeps a hostile form post from making us hash megabytes. It is well above the
/// policy's [`crate::policy::MAX_PASSWORD_CHARS`] even for four-byte characters.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The largest memory cost, in KiB, that a *stored* hash may ask verification to spend
/// (256 MiB). Verification takes its parameters from the stored PHC string, so without a
/// bound one corrupted row could make a sign-in allocate gigabytes.
pub const MAX_STORED_MEMORY_KIB: u32 = 256 * 1024;
/// The largest iteration count a stored hash may ask for; see [`MAX_STORED_MEMORY_KIB`].
pub const MAX_STORED_ITERATIONS: u32 = 16;
/// The largest parallelism a stored hash may ask for; see [`MAX_STORED_MEMORY_KIB`].
pub const MAX_STORED_PARALLELISM: u32 = 8;

/// Salt length in bytes: the 16 that RFC 9106 §3.1 recommends for password hashing.
const SALT_BYTES: usize = 16;

/// The fixed salt of the dummy verification. Any salt gives the same cost; it needs no
/// secrecy because the dummy result is always thrown away.
const DUMMY_SALT: [u8; SALT_BYTES] = *b"simpul-no-accnt!";

/// Why hashing or verifying failed. Only [`PasswordError::TooLong`] is the user's doing;
/// the others mean a corrupted stored hash or a programming error, and no variant carries
/// the password or the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The password is longer than [`MAX_PASSWORD_BYTES`].
    #[error("password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// The stored string is not a PHC string we can read.
    #[error("stored password hash is not a valid PHC string")]
    MalformedHash,
    /// The stored hash uses another algorithm than argon2id version 0x13.
    #[error("stored password hash does not use argon2id v19")]
    UnsupportedAlgorithm,
    /// The cost parameters are outside the accepted range (too weak for a new hasher,
    /// or too expensive for a stored hash).
    #[error("argon2 cost parameters out of range")]
    CostOutOfRange,
    /// The argon2 implementation failed for another reason (allocation, internal error).
    #[error("argon2 failed")]
    Internal,
}

/// A password hash in the PHC string format, e.g. `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
///
/// The string is what the store keeps. It is validated on the way in ([`PasswordHash::parse`])
/// so that verification can only fail for a wrong password. `Debug` shows the algorithm and
/// parameters but neither the salt nor the hash: together they are what an offline guessing
/// attack needs.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Reads a stored PHC string. It must be argon2id, version 19, with a salt, an output and
    /// parameters within the `MAX_STORED_*` bounds.
    pub fn parse(phc_string: &str) -> Result<Self, PasswordError> {
        let parsed =
            phc::PasswordHash::new(phc_string).map_err(|_| PasswordError::MalformedHash)?;
        stored_params(&parsed)?;
        Ok(Self(phc_string.to_owned()))
    }

    /// The PHC string, to be stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn phc(&self) -> Result<phc::PasswordHash, PasswordError> {
        phc::PasswordHash::new(&self.0).map_err(|_| PasswordError::MalformedHash)
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The PHC fields are `$alg$v=..$params$salt$hash`: keep the first three.
        let public: Vec<&str> = self.0.split('$').take(4).collect();
        write!(f, "PasswordHash({}$<redacted>)", public.join("$"))
    }
}

/// Checks that a parsed PHC string is one we produce and can afford to verify, and returns
/// its parameters.
fn stored_params(parsed: &phc::PasswordHash) -> Result<Params, PasswordError> {
    if parsed.algorithm.as_str() != Algorithm::Argon2id.as_str() {
        return Err(PasswordError::UnsupportedAlgorithm);
    }
    if parsed.version != Some(Version::V0x13.into()) {
        return Err(PasswordError::UnsupportedAlgorithm);
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(PasswordError::MalformedHash);
    }
    let params = Params::try_from(parsed).map_err(|_| PasswordError::MalformedHash)?;
    if params.m_cost() > MAX_STORED_MEMORY_KIB
        || params.t_cost() > MAX_STORED_ITERATIONS
        || params.p_cost() > MAX_STORED_PARALLELISM
    {
        return Err(PasswordError::CostOutOfRange);
    }
    Ok(params)
}

/// Hashes and verifies passwords with argon2id.
///
/// [`PasswordHasher::production`] (also `Default`) is what servers use; tests and benchmarks
/// use [`PasswordHasher::with_cost_for_tests`] to stay fast. Hashing is CPU- and
/// memory-bound (tens of milliseconds): async callers run it in `spawn_blocking`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHasher {
    params: Params,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::production()
    }
}

impl PasswordHasher {
    /// The production parameters: argon2id v19, m = 19 MiB, t = 2, p = 1, 32-byte output,
    /// 16-byte salt.
    ///
    /// Why the OWASP minimum and not more: the hub runs on two cores that also serve the
    /// registry, and a morning sign-in burst of a whole city's kelurahan offices must not
    /// queue behind password hashing. One hash costs about 20-40 ms and 19 MiB, so even a
    /// burst of 50 concurrent sign-ins stays under 1 GiB. The stored PHC string records its
    /// own parameters, so raising them later only needs a new value here:
    /// [`PasswordHasher::needs_rehash`] then tells the sign-in path to re-hash each password
    /// at the next successful sign-in.
    pub fn production() -> Self {
        Self {
            params: Params::DEFAULT,
        }
    }

    /// A hasher with explicit costs, for tests and benchmarks: argon2id at the OWASP minimum
    /// is slow in debug builds. Servers use [`PasswordHasher::production`]. Refuses costs
    /// that argon2 itself rejects (fewer than 8 KiB per lane, zero iterations) and costs
    /// above the `MAX_STORED_*` bounds, since the hashes it makes must also verify.
    pub fn with_cost_for_tests(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
    ) -> Result<Self, PasswordError> {
        if memory_kib > MAX_STORED_MEMORY_KIB
            || iterations > MAX_STORED_ITERATIONS
            || parallelism > MAX_STORED_PARALLELISM
        {
            return Err(PasswordError::CostOutOfRange);
        }
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|_| PasswordError::CostOutOfRange)?;
        Ok(Self { params })
    }

    /// Memory cost in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.params.m_cost()
    }

    /// Number of passes over memory.
    pub fn iterations(&self) -> u32 {
        self.params.t_cost()
    }

    /// Degree of parallelism (lanes).
    pub fn parallelism(&self) -> u32 {
        self.params.p_cost()
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes a password with a fresh 16-byte salt drawn from `rng`.
    ///
    /// This does not apply the password policy: call [`crate::policy::check_password`]
    /// first when the password is being chosen.
    pub fn hash<R: CryptoRng + ?Sized>(
        &self,
        password: &str,
        rng: &mut R,
    ) -> Result<PasswordHash, PasswordError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordError::TooLong);
        }
        let mut salt = [0u8; SALT_BYTES];
        rng.fill_bytes(&mut salt);
        let hash = self
            .argon2()
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map_err(|_| PasswordError::Internal)?;
        Ok(PasswordHash(hash.to_string()))
    }

    /// Whether `password` matches `stored`. A wrong password is `Ok(false)`; an error means
    /// the stored hash is unusable (corruption), which the caller must not report as a wrong
    /// password. The comparison is constant-time (done by `argon2`), and the cost is that of
    /// the parameters recorded in `stored`.
    ///
    /// A password longer than [`MAX_PASSWORD_BYTES`] is `Ok(false)` without hashing;
    /// [`PasswordHasher::verify_dummy`] does the same, so the shortcut reveals nothing about
    /// whether the account exists.
    pub fn verify(&self, password: &str, stored: &PasswordHash) -> Result<bool, PasswordError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(false);
        }
        let parsed = stored.phc()?;
        stored_params(&parsed)?;
        match self.argon2().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(_) => Err(PasswordError::Internal),
        }
    }

    /// Spends what [`PasswordHasher::verify`] spends on an account hashed with this hasher's
    /// parameters, and always answers "no match". The sign-in path calls it when the
    /// username is unknown, so that response time does not tell which usernames exist.
    pub fn verify_dummy(&self, password: &str) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        // One argon2 computation, as in `verify`; the output is discarded.
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let _ = self
            .argon2()
            .hash_password_into(password.as_bytes(), &DUMMY_SALT, &mut out);
        std::hint::black_box(&out);
        false
    }

    /// Whether `stored` was made with other parameters than this hasher's (or cannot be
    /// read), so the caller should re-hash the password it has just verified and store the
    /// new hash.
    pub fn needs_rehash(&self, stored: &PasswordHash) -> bool {
        let Ok(parsed) = stored.phc() else {
            return true;
        };
        match stored_params(&parsed) {
            Ok(params) => {
                params.m_cost() != self.params.m_cost()
                    || params.t_cost() != self.params.t_cost()
                    || params.p_cost() != self.params.p_cost()
            }
            Err(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    fn fast() -> PasswordHasher {
        // 64 KiB and one pass: enough to exercise argon2id, fast in debug builds.
        PasswordHasher::with_cost_for_tests(64, 1, 1).expect("valid test parameters")
    }

    fn rng() -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(7)
    }

    #[test]
    fn production_parameters_are_at_least_the_owasp_minimum() {
        let hasher = PasswordHasher::default();
        assert_eq!(hasher, PasswordHasher::production());
        assert!(hasher.memory_kib() >= MIN_MEMORY_KIB);
        assert!(hasher.iterations() >= MIN_ITERATIONS);
        assert!(hasher.parallelism() >= MIN_PARALLELISM);
    }

    #[test]
    fn production_hash_records_argon2id_and_its_parameters() {
        let hash = PasswordHasher::production()
            .hash("correct horse battery", &mut rng())
            .expect("hash");
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
    }

    #[test]
    fn right_password_verifies_and_wrong_one_is_refused() {
        let hasher = fast();
        let hash = hasher
            .hash("correct horse battery", &mut rng())
            .expect("hash");
        assert_eq!(hasher.verify("correct horse battery", &hash), Ok(true));
        assert_eq!(hasher.verify("correct horse batterY", &hash), Ok(false));
        assert_eq!(hasher.verify("", &hash), Ok(false));
    }

    #[test]
    fn the_same_password_gets_a_fresh_salt_each_time() {
        let hasher = fast();
        let mut rng = rng();
        let a = hasher
            .hash("correct horse battery", &mut rng)
            .expect("hash");
        let b = hasher
            .hash("correct horse battery", &mut rng)
            .expect("hash");
        assert_ne!(a, b);
        assert_eq!(hasher.verify("correct horse battery", &b), Ok(true));
    }

    #[test]
    fn verification_uses_the_stored_parameters() {
        let old = fast();
        let hash = old.hash("correct horse battery", &mut rng()).expect("hash");
        let new = PasswordHasher::with_cost_for_tests(128, 2, 1).expect("params");
        assert_eq!(new.verify("correct horse battery", &hash), Ok(true));
        assert!(new.needs_rehash(&hash));
        assert!(!old.needs_rehash(&hash));
    }

    #[test]
    fn dummy_verification_never_matches() {
        let hasher = fast();
        assert!(!hasher.verify_dummy("correct horse battery"));
        assert!(!hasher.verify_dummy(""));
    }

    /// Median wall time of `runs` calls of `f`.
    fn median(runs: usize, mut f: impl FnMut()) -> Duration {
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect();
        times.sort();
        times[runs / 2]
    }

    #[test]
    fn dummy_verification_costs_about_as_much_as_a_real_one() {
        // Large enough (8 MiB, 2 passes) that the hash dominates any overhead; argon2 is
        // compiled with optimisation even in debug builds (see the root profile).
        let hasher = PasswordHasher::with_cost_for_tests(8 * 1024, 2, 1).expect("params");
        let hash = hasher
            .hash("correct horse battery", &mut rng())
            .expect("hash");
        let real = median(5, || {
            let _ = hasher.verify("wrong horse battery", &hash);
        });
        let dummy = median(5, || {
            let _ = hasher.verify_dummy("wrong horse battery");
        });
        // A generous band: the point is to catch a dummy that skips the hash (about 0x the
        // cost), not to measure small differences on a loaded CI machine.
        let ratio = dummy.as_secs_f64() / real.as_secs_f64();
        assert!((0.4..2.5).contains(&ratio), "dummy/real = {ratio:.2}");
    }

    #[test]
    fn overlong_passwords_are_refused_without_hashing() {
        let hasher = fast();
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(hasher.hash(&long, &mut rng()), Err(PasswordError::TooLong));
        let hash = hasher
            .hash("correct horse battery", &mut rng())
            .expect("hash");
        assert_eq!(hasher.verify(&long, &hash), Ok(false));
        assert!(!hasher.verify_dummy(&long));
    }

    #[test]
    fn stored_strings_are_validated() {
        let hasher = fast();
        let good = hasher
            .hash("correct horse battery", &mut rng())
            .expect("hash");
        assert_eq!(PasswordHash::parse(good.as_str()), Ok(good.clone()));
        assert_eq!(
            PasswordHash::parse("not a hash"),
            Err(PasswordError::MalformedHash)
        );
        let argon2i = good.as_str().replacen("argon2id", "argon2i", 1);
        assert_eq!(
            PasswordHash::parse(&argon2i),
            Err(PasswordError::UnsupportedAlgorithm)
        );
        let greedy = good.as_str().replacen("m=64,", "m=4194304,", 1);
        assert_eq!(
            PasswordHash::parse(&greedy),
            Err(PasswordError::CostOutOfRange)
        );
        let no_output = good.as_str().rsplit_once('$').map_or("", |(head, _)| head);
        assert_eq!(
            PasswordHash::parse(no_output),
            Err(PasswordError::MalformedHash)
        );
    }

    #[test]
    fn weak_or_huge_test_costs_are_refused() {
        assert_eq!(
            PasswordHasher::with_cost_for_tests(8 * 1024, 0, 1),
            Err(PasswordError::CostOutOfRange)
        );
        assert_eq!(
            PasswordHasher::with_cost_for_tests(MAX_STORED_MEMORY_KIB + 1, 1, 1),
            Err(PasswordError::CostOutOfRange)
        );
    }

    #[test]
    fn debug_shows_parameters_but_not_salt_or_hash() {
        let hash = fast()
            .hash("correct horse battery", &mut rng())
            .expect("hash");
        let debug = format!("{hash:?}");
        let fields: Vec<&str> = hash.as_str().split('$').collect();
        assert!(debug.contains("argon2id$v=19$m=64,t=1,p=1"), "{debug}");
        assert!(!debug.contains(fields[4]), "salt leaked: {debug}");
        assert!(!debug.contains(fields[5]), "hash leaked: {debug}");
    }
}
