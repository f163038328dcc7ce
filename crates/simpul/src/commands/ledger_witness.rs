//! `simpul ledger witness`: an independent witness of a hub's ledger, following the
//! [C2SP tlog-witness](https://c2sp.org/tlog-witness) rules, and
//! `simpul ledger witness-key`, which makes the witness's key.
//!
//! One run is one round, meant for a timer (cron, a systemd timer) run by someone other
//! than the hub's operator: fetch the log's latest checkpoint, check that it is signed by
//! the log key and extends the checkpoint this witness saw last, cosign it
//! ([C2SP tlog-cosignature](https://c2sp.org/tlog-cosignature)), record it in the state
//! file and post the cosignature to the hub, which shows it to its clients. A log that
//! rolls back, forks (two roots for one size, or a new checkpoint that does not extend
//! the old one) or answers a checkpoint the log key did not sign is refused: nothing is
//! cosigned or posted, the state file is left as it was, the reason and the log's signed
//! checkpoint (the evidence) go to stderr, and the exit code is [`EXIT_REFUSED`].
//!
//! The state is persisted *before* the cosignature is posted, as tlog-witness requires of
//! a witness: a cosignature that is out in the world while the state still holds an older
//! checkpoint would let a crash between the two make the witness cosign a fork of what it
//! already cosigned. A post that then fails only costs a re-post of the same size on the
//! next round.
//!
//! The first contact with a log (no state file, or a stored size of 0) is trust on first
//! use: the checkpoint is checked against the log key only. A state file that exists but
//! does not read, or that holds a checkpoint the log key did not sign, stops the round
//! instead: silently starting over would throw away the history the witness vouches for.
//! Rounds on one state file are meant to run one at a time.
//!
//! The hub is reached over plain HTTP (hyper), on purpose without TLS: every checkpoint
//! the witness acts on is signed by the configured log key and every proof is checked
//! against signed roots, so whoever sits on the network can withhold or delay answers
//! (a failed round) but cannot make the witness cosign something the log did not sign or
//! that contradicts what it saw; and the cosignature it posts is public by design. A
//! deployment that wants transport privacy puts the witness behind a TLS-terminating proxy.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use simpul_ledger::{
    Checkpoint, CheckpointError, CosignatureError, CosignatureSigner, Hash, KeyName, NoteSignature,
    NoteVerifier, VerifyError, cosign_checkpoint, verify_checkpoint, verify_consistency,
};
use zeroize::Zeroizing;

/// The exit code of a round that refused the log's checkpoint (rollback, fork, failed
/// consistency proof, bad signature), apart from 1 (the log could not be reached, bad
/// flags) and clap's 2 (usage), so a timer can alert on misbehaviour specifically.
pub const EXIT_REFUSED: u8 = 3;

/// How long one request to the hub may take; only ends a round that would otherwise hang.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The most a response body may hold. A checkpoint with the signed-note maximum of 100
/// signature lines and a consistency proof for 2^64 leaves are both a few kilobytes; the
/// bound keeps a hostile hub from filling the witness's memory.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

const CHECKPOINT_PATH: &str = "/api/v1/ledger/checkpoint";
const CONSISTENCY_PATH: &str = "/api/v1/ledger/proof/consistency";
const COSIGNATURE_PATH: &str = "/api/v1/ledger/cosignature";

/// Flags of `simpul ledger witness`.
#[derive(Debug, clap::Args)]
pub struct WitnessArgs {
    /// Base URL of the hub, e.g. http://127.0.0.1:8080 (plain HTTP: every checkpoint is signed).
    #[arg(long, value_name = "URL")]
    pub log: String,
    /// The log's public key (vkey), as `simpul ledger key` prints it.
    #[arg(long, value_name = "VKEY")]
    pub log_key: String,
    /// State file (JSON): the last checkpoint this witness cosigned. Created on first contact.
    #[arg(long, value_name = "FILE")]
    pub state: PathBuf,
    /// The witness's private key file, as `simpul ledger witness-key` writes it.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}

/// Flags of `simpul ledger witness-key`.
#[derive(Debug, clap::Args)]
pub struct WitnessKeyArgs {
    /// The witness key name, e.g. witness.example/w1.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Where to write the private key (readable by its owner only; never overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Writes a new random witness key to `args.out` (mode 0600) and returns its vkey, the
/// string the hub's operator configures to accept this witness's cosignatures.
///
/// An existing file is refused: a witness key is the witness's identity, and replacing it
/// by accident would orphan every cosignature made with it.
pub fn generate_key(args: &WitnessKeyArgs) -> anyhow::Result<String> {
    let name = KeyName::new(args.name.as_str())
        .with_context(|| format!("witness key name {:?}", args.name))?;
    if args.out.exists() {
        bail!(
            "{} already exists; remove it first if you really mean to replace this witness's key",
            args.out.display()
        );
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rng(), seed.as_mut());
    let signer = CosignatureSigner::from_seed(name, &seed);
    let mut text = signer.to_skey();
    text.push('\n');
    crate::keys::write_private_file(&args.out, &text)?;
    Ok(signer.verifier().to_vkey())
}

/// One round of `simpul ledger witness`. Exit 0 when the log's checkpoint was cosigned or
/// the log has none yet, [`EXIT_REFUSED`] when the log misbehaved; other failures (the
/// hub unreachable, a bad key or state file) are errors.
pub async fn run(args: WitnessArgs) -> anyhow::Result<ExitCode> {
    let log_key = NoteVerifier::from_vkey(args.log_key.trim())
        .context("--log-key is not a log vkey (`simpul ledger key` prints it)")?;
    let skey = Zeroizing::new(
        std::fs::read_to_string(&args.key)
            .with_context(|| format!("reading the witness key {}", args.key.display()))?,
    );
    let signer = CosignatureSigner::from_skey(skey.trim())
        .with_context(|| format!("{} is not a witness key", args.key.display()))?;
    let client = HttpLog::new(&args.log)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    match witness_round(&client, &log_key, &signer, &args.state, now).await {
        Ok(Outcome::NoCheckpoint) => {
            println!(
                "The log {} has no checkpoint yet; nothing to cosign.",
                log_key.name()
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Outcome::Cosigned(cosigned)) => {
            let checkpoint = &cosigned.state.checkpoint;
            let how = match cosigned.previous {
                None => "first contact, trusted on first use".to_owned(),
                Some(previous) if previous == checkpoint.size() => "unchanged".to_owned(),
                Some(0) => "grown from the empty tree".to_owned(),
                Some(previous) => format!("consistent with size {previous}"),
            };
            println!(
                "Cosigned {} at size {} ({how}) as {}.",
                checkpoint.origin(),
                checkpoint.size(),
                signer.name()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) if error.is_misbehaviour() => {
            eprintln!("simpul ledger witness: REFUSED: {error}");
            eprintln!(
                "Nothing was cosigned or posted; {} is unchanged.",
                args.state.display()
            );
            if let Some(note) = error.evidence() {
                eprintln!(
                    "The log's signed checkpoint (evidence; the one seen before is in {}):\n{note}",
                    args.state.display()
                );
            }
            Ok(ExitCode::from(EXIT_REFUSED))
        }
        Err(error) => Err(anyhow::Error::new(error)),
    }
}

/// What a witness needs from a log. [`HttpLog`] speaks the hub's API; tests use a log in
/// memory.
pub trait LogClient {
    /// The log's latest signed checkpoint note, or `None` when it has none yet.
    async fn checkpoint(&self) -> anyhow::Result<Option<String>>;
    /// The consistency proof from tree size `from` to tree size `to`, `0 < from < to`.
    async fn consistency(&self, from: u64, to: u64) -> anyhow::Result<Vec<Hash>>;
    /// Hands the log a cosignature line ([`NoteSignature::to_line`]) of its checkpoint of
    /// tree size `size`.
    async fn post_cosignature(&self, size: u64, line: &str) -> anyhow::Result<()>;
}

/// The last checkpoint a witness cosigned: the signed note as the log served it, and its
/// body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessState {
    /// The checkpoint body (origin, size, root).
    pub checkpoint: Checkpoint,
    /// The signed note it came in, kept as evidence should the log later contradict it.
    pub note: String,
}

/// The state file's JSON. Origin, size and root are repeated out of the note so that a
/// person reading the file sees them; loading checks they agree with it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    origin: String,
    size: u64,
    root: String,
    checkpoint: String,
}

impl WitnessState {
    /// The state JSON, `{"origin", "size", "root" (base64), "checkpoint" (the note)}`.
    pub fn to_json(&self) -> String {
        let file = StateFile {
            origin: self.checkpoint.origin().to_owned(),
            size: self.checkpoint.size(),
            root: self.checkpoint.root().to_base64(),
            checkpoint: self.note.clone(),
        };
        let mut json = serde_json::to_string_pretty(&file).unwrap_or_default();
        json.push('\n');
        json
    }

    /// Reads state JSON and checks that its note is a checkpoint `log_key` signed and that
    /// the summary fields agree with it.
    pub fn from_json(json: &str, log_key: &NoteVerifier) -> anyhow::Result<Self> {
        let file: StateFile = serde_json::from_str(json).context("not witness state JSON")?;
        let checkpoint = verify_checkpoint(&file.checkpoint, std::slice::from_ref(log_key))
            .with_context(|| {
                format!(
                    "its checkpoint is not one signed by the log key {}; \
                     is this the state of another log?",
                    log_key.name()
                )
            })?;
        let root = Hash::from_base64(&file.root).context("its root is not base64 of 32 bytes")?;
        if (file.origin.as_str(), file.size, &root)
            != (checkpoint.origin(), checkpoint.size(), checkpoint.root())
        {
            bail!("its origin, size or root disagrees with its signed checkpoint");
        }
        Ok(Self {
            checkpoint,
            note: file.checkpoint,
        })
    }
}

/// Reads the state file; `None` when there is none yet (first contact).
pub fn load_state(path: &Path, log_key: &NoteVerifier) -> anyhow::Result<Option<WitnessState>> {
    let json = match std::fs::read_to_string(path) {
        Ok(json) => json,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(error).with_context(|| format!("reading state file {}", path.display()));
        }
    };
    WitnessState::from_json(&json, log_key)
        .map(Some)
        .with_context(|| format!("state file {} refused", path.display()))
}

/// Replaces the state file atomically: a temporary file beside it, synced, then renamed
/// over it, so a crash leaves the old state or the new one, never half of either.
pub fn save_state(path: &Path, state: &WitnessState) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the state directory {}", dir.display()))?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    {
        let mut file = std::fs::File::create(&temporary)
            .with_context(|| format!("writing {}", temporary.display()))?;
        file.write_all(state.to_json().as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)
        .with_context(|| format!("replacing state file {}", path.display()))?;
    // The rename itself is durable only once the directory is synced.
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    Ok(())
}

/// The result of a round that went through.
#[derive(Debug)]
pub enum Outcome {
    /// The log has no checkpoint yet: nothing was cosigned or saved.
    NoCheckpoint,
    /// The checkpoint passed every check and was cosigned.
    Cosigned(Box<Cosigned>),
}

/// A checkpoint that passed every check, with its cosignature.
#[derive(Debug)]
pub struct Cosigned {
    /// The stored size it was checked against; `None` on first contact.
    pub previous: Option<u64>,
    /// The new state: the checkpoint as the log signed it.
    pub state: WitnessState,
    /// The cosignature line to hand to the log.
    pub cosignature: NoteSignature,
}

/// Why a round did not cosign. The first four kinds are the log's misbehaviour
/// ([`WitnessError::is_misbehaviour`]) and carry its signed note as evidence.
#[derive(Debug)]
pub enum WitnessError {
    /// The checkpoint does not verify with the log key (or is signed, but not by the key
    /// of the log it names).
    BadSignature {
        /// Why it does not verify.
        error: CheckpointError,
        /// The note as served.
        note: String,
    },
    /// The checkpoint is smaller than the one seen before: a log only grows.
    Rollback {
        /// The size seen before.
        stored: u64,
        /// The size now served.
        received: u64,
        /// The note as served.
        note: String,
    },
    /// Two different roots for one tree size, both signed by the log.
    Fork {
        /// The tree size.
        size: u64,
        /// The root seen before.
        stored: Hash,
        /// The root now served.
        received: Hash,
        /// The note as served.
        note: String,
    },
    /// The consistency proof from the stored size to the new size does not verify: the
    /// new tree does not extend the old one (or the log served a bad proof).
    Inconsistent {
        /// The stored size.
        from: u64,
        /// The new size.
        to: u64,
        /// Why the proof failed.
        error: VerifyError,
        /// The note as served.
        note: String,
    },
    /// The state belongs to another log than the checkpoint names.
    OriginMismatch {
        /// The origin in the state file.
        stored: String,
        /// The origin of the checkpoint now served.
        received: String,
    },
    /// The log could not be reached or answered something unreadable.
    Log(anyhow::Error),
    /// The state file could not be read or written.
    State(anyhow::Error),
    /// The cosignature could not be made.
    Cosign(CosignatureError),
}

impl WitnessError {
    /// Whether the log misbehaved, as opposed to failing to answer or a local problem.
    pub fn is_misbehaviour(&self) -> bool {
        matches!(
            self,
            Self::BadSignature { .. }
                | Self::Rollback { .. }
                | Self::Fork { .. }
                | Self::Inconsistent { .. }
        )
    }

    /// The signed note the log served, when it is evidence of misbehaviour.
    pub fn evidence(&self) -> Option<&str> {
        match self {
            Self::BadSignature { note, .. }
            | Self::Rollback { note, .. }
            | Self::Fork { note, .. }
            | Self::Inconsistent { note, .. } => Some(note),
            _ => None,
        }
    }
}

impl fmt::Display for WitnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadSignature { error, .. } => write!(
                f,
                "bad signature: the checkpoint does not verify with the log key ({error}); \
                 either --log-key is not this log's key or what answered is not the log"
            ),
            Self::Rollback {
                stored, received, ..
            } => write!(
                f,
                "rollback: the log now shows size {received}, smaller than size {stored} it \
                 showed this witness before"
            ),
            Self::Fork {
                size,
                stored,
                received,
                ..
            } => write!(
                f,
                "fork at the same size: the log signed two roots for size {size}: {} (seen \
                 before) and {} (now)",
                stored.to_base64(),
                received.to_base64()
            ),
            Self::Inconsistent {
                from, to, error, ..
            } => write!(
                f,
                "fork: the consistency proof from size {from} to size {to} failed ({error}); \
                 the new checkpoint does not extend the one seen before"
            ),
            Self::OriginMismatch { stored, received } => write!(
                f,
                "the state file is for log {stored:?}, but the checkpoint is from {received:?}"
            ),
            Self::Log(error) => write!(f, "asking the log: {error:#}"),
            Self::State(error) => write!(f, "{error:#}"),
            Self::Cosign(error) => write!(f, "cosigning: {error}"),
        }
    }
}

impl std::error::Error for WitnessError {}

/// Fetches the log's checkpoint, checks it against `state` (fetching a consistency proof
/// when it grew) and cosigns it as of `now_unix`. Writes nothing and posts nothing:
/// [`witness_round`] does, after this succeeds.
pub async fn witness_step<C: LogClient>(
    client: &C,
    log_key: &NoteVerifier,
    state: Option<&WitnessState>,
    signer: &CosignatureSigner,
    now_unix: u64,
) -> Result<Outcome, WitnessError> {
    let Some(note) = client.checkpoint().await.map_err(WitnessError::Log)? else {
        return Ok(Outcome::NoCheckpoint);
    };
    let checkpoint = match verify_checkpoint(&note, std::slice::from_ref(log_key)) {
        Ok(checkpoint) => checkpoint,
        Err(error) => return Err(WitnessError::BadSignature { error, note }),
    };
    let previous = match state {
        Some(state) => {
            check_extends(client, &state.checkpoint, &checkpoint, &note).await?;
            Some(state.checkpoint.size())
        }
        None => None,
    };
    let cosignature =
        cosign_checkpoint(&checkpoint, signer, now_unix).map_err(WitnessError::Cosign)?;
    Ok(Outcome::Cosigned(Box::new(Cosigned {
        previous,
        state: WitnessState { checkpoint, note },
        cosignature,
    })))
}

/// The tlog-witness rules between the checkpoint seen before and a new, verified one.
async fn check_extends<C: LogClient>(
    client: &C,
    stored: &Checkpoint,
    received: &Checkpoint,
    note: &str,
) -> Result<(), WitnessError> {
    if stored.origin() != received.origin() {
        return Err(WitnessError::OriginMismatch {
            stored: stored.origin().to_owned(),
            received: received.origin().to_owned(),
        });
    }
    let (from, to) = (stored.size(), received.size());
    if to < from {
        return Err(WitnessError::Rollback {
            stored: from,
            received: to,
            note: note.to_owned(),
        });
    }
    if to == from {
        if stored.root() != received.root() {
            return Err(WitnessError::Fork {
                size: to,
                stored: *stored.root(),
                received: *received.root(),
                note: note.to_owned(),
            });
        }
        return Ok(());
    }
    // The empty tree is a prefix of every tree, and RFC 9162 has no proof from it: a
    // stored size of 0 is first contact again.
    if from == 0 {
        return Ok(());
    }
    let proof = client
        .consistency(from, to)
        .await
        .map_err(WitnessError::Log)?;
    verify_consistency(from, to, &proof, stored.root(), received.root()).map_err(|error| {
        WitnessError::Inconsistent {
            from,
            to,
            error,
            note: note.to_owned(),
        }
    })
}

/// One whole round on a state file: load it, [`witness_step`], then, only when every
/// check passed, save the new state and post the cosignature (in that order; see the
/// module documentation). On any refusal the state file is not touched.
pub async fn witness_round<C: LogClient>(
    client: &C,
    log_key: &NoteVerifier,
    signer: &CosignatureSigner,
    state_path: &Path,
    now_unix: u64,
) -> Result<Outcome, WitnessError> {
    let state = load_state(state_path, log_key).map_err(WitnessError::State)?;
    let outcome = witness_step(client, log_key, state.as_ref(), signer, now_unix).await?;
    if let Outcome::Cosigned(cosigned) = &outcome {
        save_state(state_path, &cosigned.state).map_err(WitnessError::State)?;
        client
            .post_cosignature(
                cosigned.state.checkpoint.size(),
                &cosigned.cosignature.to_line(),
            )
            .await
            .map_err(|error| {
                WitnessError::Log(error.context(format!(
                    "the checkpoint was cosigned and saved in {}, but posting the cosignature \
                     failed; the next round posts it again",
                    state_path.display()
                )))
            })?;
    }
    Ok(outcome)
}

/// The hub's ledger API over plain HTTP/1.1.
pub struct HttpLog {
    /// The base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// The JSON of a consistency proof.
#[derive(Deserialize)]
struct ConsistencyAnswer {
    first: u64,
    second: u64,
    consistency_path: Vec<String>,
}

/// What the witness posts.
#[derive(Serialize)]
struct CosignatureBody<'a> {
    size: u64,
    signature: &'a str,
}

impl HttpLog {
    /// A client for the hub at `base_url` (`http://host[:port][/prefix]`).
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        let base = base_url.trim().trim_end_matches('/');
        let uri: Uri = base
            .parse()
            .with_context(|| format!("--log {base_url:?} is not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => bail!(
                "--log {base_url:?}: this witness speaks plain HTTP (checkpoints are signed, so \
                 TLS adds no integrity); use http:// or a local TLS-terminating proxy"
            ),
            _ => bail!("--log {base_url:?} must start with http://"),
        }
        if uri.authority().is_none() || uri.query().is_some() {
            bail!("--log {base_url:?} must be a base URL such as http://127.0.0.1:8080");
        }
        Ok(Self {
            base: base.to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    /// Sends one request and reads the whole (bounded) answer.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        json: Option<String>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let url = format!("{}{path_and_query}", self.base);
        let mut request = Request::new(Full::new(Bytes::from(json.clone().unwrap_or_default())));
        *request.method_mut() = method.clone();
        *request.uri_mut() = url.parse().with_context(|| format!("URL {url}"))?;
        if json.is_some() {
            request
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let exchange = async {
            let response = self.client.request(request).await?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|error| anyhow::anyhow!("reading the answer: {error}"))?
                .to_bytes();
            anyhow::Ok((status, body))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| anyhow::anyhow!("no answer within {REQUEST_TIMEOUT:?}"))
            .and_then(|answer| answer)
            .with_context(|| format!("{method} {url}"))
    }
}

/// An error answer as one line: the status and, when the body is a problem document
/// (RFC 9457), its `detail` (or `title`).
fn problem(status: StatusCode, body: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let detail = parsed
        .as_ref()
        .and_then(|v| v.get("detail").or_else(|| v.get("title")))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            text.chars().take(200).collect()
        });
    if detail.trim().is_empty() {
        format!("the hub answered {status}")
    } else {
        format!("the hub answered {status}: {}", detail.trim())
    }
}

impl LogClient for HttpLog {
    async fn checkpoint(&self) -> anyhow::Result<Option<String>> {
        let (status, body) = self.send(Method::GET, CHECKPOINT_PATH, None).await?;
        match status {
            StatusCode::OK => String::from_utf8(body.to_vec())
                .map(Some)
                .context("the checkpoint is not UTF-8"),
            StatusCode::NOT_FOUND => Ok(None),
            _ => bail!("GET {CHECKPOINT_PATH}: {}", problem(status, &body)),
        }
    }

    async fn consistency(&self, from: u64, to: u64) -> anyhow::Result<Vec<Hash>> {
        let path = format!("{CONSISTENCY_PATH}?from={from}&to={to}");
        let (status, body) = self.send(Method::GET, &path, None).await?;
        if status != StatusCode::OK {
            bail!("GET {path}: {}", problem(status, &body));
        }
        let answer: ConsistencyAnswer = serde_json::from_slice(&body)
            .with_context(|| format!("GET {path}: not a consistency proof"))?;
        if (answer.first, answer.second) != (from, to) {
            bail!(
                "GET {path}: the hub answered a proof from {} to {}",
                answer.first,
                answer.second
            );
        }
        answer
            .consistency_path
            .iter()
            .map(|hash| Hash::from_base64(hash))
            .collect::<Result<_, _>>()
            .with_context(|| format!("GET {path}: a proof hash is not base64 of 32 bytes"))
    }

    async fn post_cosignature(&self, size: u64, line: &str) -> anyhow::Result<()> {
        let body = serde_json::to_string(&CosignatureBody {
            size,
            signature: line,
        })?;
        let (status, answer) = self
            .send(Method::POST, COSIGNATURE_PATH, Some(body))
            .await?;
        if !matches!(status, StatusCode::OK | StatusCode::CREATED) {
            bail!("POST {COSIGNATURE_PATH}: {}", problem(status, &answer));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use simpul_ledger::{
        CosignatureVerifier, MemoryTree, Note, NoteSigner, consistency_proof, leaf_hash,
        sign_checkpoint, verify_cosignature,
    };

    use super::*;

    const LOG: &str = "simpul.example/ledger";
    const NOW: u64 = 1_700_000_000;

    fn log_signer(seed: u8) -> NoteSigner {
        NoteSigner::from_seed(KeyName::new(LOG).unwrap(), &[seed; 32])
    }

    fn log_key() -> NoteVerifier {
        log_signer(1).verifier()
    }

    fn witness() -> CosignatureSigner {
        CosignatureSigner::from_seed(KeyName::new("witness.example/w1").unwrap(), &[2; 32])
    }

    /// A tree of `size` leaves named after `history`: two histories share no leaf.
    fn tree(history: &str, size: u64) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for i in 0..size {
            tree.append(leaf_hash(format!("{history} {i}").as_bytes()))
                .unwrap();
        }
        tree
    }

    /// A log in memory: serves `tree` (or nothing) signed by `signer`, proves from it, and
    /// records what is asked of it and posted to it.
    struct FakeLog {
        signer: NoteSigner,
        tree: Option<MemoryTree>,
        proofs_asked: RefCell<Vec<(u64, u64)>>,
        posted: RefCell<Vec<(u64, String)>>,
    }

    impl FakeLog {
        fn new(tree: Option<MemoryTree>) -> Self {
            Self::signed_by(log_signer(1), tree)
        }

        fn signed_by(signer: NoteSigner, tree: Option<MemoryTree>) -> Self {
            Self {
                signer,
                tree,
                proofs_asked: RefCell::default(),
                posted: RefCell::default(),
            }
        }

        fn note(&self) -> Option<String> {
            let tree = self.tree.as_ref()?;
            let checkpoint = Checkpoint::new(LOG, tree.size(), tree.root()).unwrap();
            Some(sign_checkpoint(&checkpoint, &self.signer).unwrap())
        }
    }

    impl LogClient for FakeLog {
        async fn checkpoint(&self) -> anyhow::Result<Option<String>> {
            Ok(self.note())
        }

        async fn consistency(&self, from: u64, to: u64) -> anyhow::Result<Vec<Hash>> {
            self.proofs_asked.borrow_mut().push((from, to));
            let tree = self.tree.as_ref().context("no tree")?;
            Ok(consistency_proof(tree, from, to)?)
        }

        async fn post_cosignature(&self, size: u64, line: &str) -> anyhow::Result<()> {
            self.posted.borrow_mut().push((size, line.to_owned()));
            Ok(())
        }
    }

    /// A note's body, unverified: what the fake log signed.
    fn unverified_body(note: &str) -> Option<Checkpoint> {
        Checkpoint::parse(Note::parse(note).ok()?.text()).ok()
    }

    async fn round(log: &FakeLog, state: &Path) -> Result<Outcome, WitnessError> {
        witness_round(log, &log_key(), &witness(), state, NOW).await
    }

    fn stored(state: &Path) -> Checkpoint {
        load_state(state, &log_key()).unwrap().unwrap().checkpoint
    }

    /// Checks a posted line as a client of the hub would: a valid cosignature by the
    /// witness's published key over the checkpoint the log served.
    fn assert_valid_cosignature(log: &FakeLog, line: &str) {
        let published = CosignatureVerifier::from_vkey(&witness().verifier().to_vkey()).unwrap();
        let signature = NoteSignature::from_line(line).unwrap();
        let text = unverified_body(&log.note().unwrap())
            .unwrap()
            .to_note_text();
        assert_eq!(
            verify_cosignature(&text, &signature, &published),
            Ok(NOW),
            "{line}"
        );
    }

    /// Runs a round against a log that must be refused and checks that nothing changed.
    async fn assert_refused(log: &FakeLog, state: &Path) -> WitnessError {
        let before = std::fs::read(state).ok();
        let error = round(log, state).await.unwrap_err();
        assert!(error.is_misbehaviour(), "{error}");
        assert_eq!(error.evidence(), log.note().as_deref());
        assert!(log.posted.borrow().is_empty(), "posted after {error}");
        assert_eq!(
            std::fs::read(state).ok(),
            before,
            "state changed by {error}"
        );
        error
    }

    #[tokio::test]
    async fn first_contact_cosigns_and_saves_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("witness/state.json");
        let log = FakeLog::new(Some(tree("a", 5)));

        let Outcome::Cosigned(cosigned) = round(&log, &state).await.unwrap() else {
            panic!("not cosigned")
        };
        assert_eq!(cosigned.previous, None);
        assert!(log.proofs_asked.borrow().is_empty());
        let posted = log.posted.borrow();
        assert_eq!(posted.len(), 1);
        assert_eq!(posted[0].0, 5);
        assert_valid_cosignature(&log, &posted[0].1);

        let saved = stored(&state);
        assert_eq!((saved.size(), saved.root()), (5, &tree("a", 5).root()));
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
        assert_eq!(json["origin"], LOG);
        assert_eq!(json["size"], 5);
        assert_eq!(json["root"], tree("a", 5).root().to_base64());
        assert_eq!(json["checkpoint"], log.note().unwrap());
    }

    #[tokio::test]
    async fn growth_with_a_valid_proof_is_cosigned() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        round(&FakeLog::new(Some(tree("a", 5))), &state)
            .await
            .unwrap();

        let grown = FakeLog::new(Some(tree("a", 8)));
        let Outcome::Cosigned(cosigned) = round(&grown, &state).await.unwrap() else {
            panic!("not cosigned")
        };
        assert_eq!(cosigned.previous, Some(5));
        assert_eq!(*grown.proofs_asked.borrow(), [(5, 8)]);
        let posted = grown.posted.borrow();
        assert_eq!(posted.len(), 1);
        assert_eq!(posted[0].0, 8);
        assert_valid_cosignature(&grown, &posted[0].1);
        // The cosignature is over this checkpoint, not any checkpoint.
        let other = Checkpoint::new(LOG, 8, tree("b", 8).root()).unwrap();
        let published = witness().verifier();
        let signature = NoteSignature::from_line(&posted[0].1).unwrap();
        assert!(verify_cosignature(&other.to_note_text(), &signature, &published).is_err());
        assert_eq!(stored(&state).size(), 8);
    }

    #[tokio::test]
    async fn a_forked_log_signed_by_the_same_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let honest = FakeLog::new(Some(tree("a", 5)));
        round(&honest, &state).await.unwrap();
        assert_eq!(honest.posted.borrow().len(), 1);

        // Another history, signed by the same log key, that shows 8 leaves.
        let fork = FakeLog::new(Some(tree("b", 8)));
        let error = assert_refused(&fork, &state).await;
        assert!(
            matches!(error, WitnessError::Inconsistent { from: 5, to: 8, .. }),
            "{error:?}"
        );
        assert!(error.to_string().starts_with("fork:"), "{error}");
        assert_eq!(*fork.proofs_asked.borrow(), [(5, 8)]);
        let saved = stored(&state);
        assert_eq!((saved.size(), saved.root()), (5, &tree("a", 5).root()));
    }

    #[tokio::test]
    async fn same_size_with_another_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        round(&FakeLog::new(Some(tree("a", 5))), &state)
            .await
            .unwrap();

        let fork = FakeLog::new(Some(tree("b", 5)));
        let error = assert_refused(&fork, &state).await;
        assert!(
            matches!(error, WitnessError::Fork { size: 5, .. }),
            "{error:?}"
        );
        assert!(fork.proofs_asked.borrow().is_empty());
        assert_eq!(stored(&state).root(), &tree("a", 5).root());
    }

    #[tokio::test]
    async fn same_size_with_the_same_root_is_cosigned_again() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        round(&FakeLog::new(Some(tree("a", 5))), &state)
            .await
            .unwrap();

        let same = FakeLog::new(Some(tree("a", 5)));
        let Outcome::Cosigned(cosigned) = round(&same, &state).await.unwrap() else {
            panic!("not cosigned")
        };
        assert_eq!(cosigned.previous, Some(5));
        assert!(same.proofs_asked.borrow().is_empty());
        assert_eq!(same.posted.borrow().len(), 1);
        assert_valid_cosignature(&same, &same.posted.borrow()[0].1);
    }

    #[tokio::test]
    async fn a_rollback_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        round(&FakeLog::new(Some(tree("a", 8))), &state)
            .await
            .unwrap();

        // A prefix of the same history: consistent, but smaller than what was shown.
        let error = assert_refused(&FakeLog::new(Some(tree("a", 5))), &state).await;
        assert!(
            matches!(
                error,
                WitnessError::Rollback {
                    stored: 8,
                    received: 5,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(stored(&state).size(), 8);
    }

    #[tokio::test]
    async fn a_checkpoint_signed_by_another_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        // On first contact: no state file may appear.
        let impostor = FakeLog::signed_by(log_signer(9), Some(tree("a", 5)));
        let error = assert_refused(&impostor, &state).await;
        assert!(
            matches!(error, WitnessError::BadSignature { .. }),
            "{error:?}"
        );
        assert!(!state.exists());

        // And once the witness knows the log: the honest extension of what it saw, but
        // signed by a key of another log, is refused all the same.
        round(&FakeLog::new(Some(tree("a", 5))), &state)
            .await
            .unwrap();
        let other_log = NoteSigner::from_seed(KeyName::new("other.example/log").unwrap(), &[1; 32]);
        let other = FakeLog::signed_by(other_log, Some(tree("a", 8)));
        let error = round(&other, &state).await.unwrap_err();
        assert!(
            matches!(error, WitnessError::BadSignature { .. }),
            "{error:?}"
        );
        assert!(other.posted.borrow().is_empty());
        assert_eq!(stored(&state).size(), 5);
    }

    #[tokio::test]
    async fn a_log_without_a_checkpoint_is_nothing_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let empty = FakeLog::new(None);
        assert!(matches!(
            round(&empty, &state).await,
            Ok(Outcome::NoCheckpoint)
        ));
        assert!(empty.posted.borrow().is_empty());
        assert!(!state.exists());
    }

    #[tokio::test]
    async fn a_stored_empty_tree_is_first_contact_again() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        round(&FakeLog::new(Some(MemoryTree::new())), &state)
            .await
            .unwrap();
        assert_eq!(stored(&state).size(), 0);

        let grown = FakeLog::new(Some(tree("a", 3)));
        round(&grown, &state).await.unwrap();
        assert!(grown.proofs_asked.borrow().is_empty());
        assert_eq!(stored(&state).size(), 3);
    }

    #[tokio::test]
    async fn an_unreadable_or_foreign_state_stops_the_round() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        let log = FakeLog::new(Some(tree("a", 5)));

        // Corrupt: not a reason to trust the log afresh.
        std::fs::write(&state, "{").unwrap();
        let error = round(&log, &state).await.unwrap_err();
        assert!(matches!(error, WitnessError::State(_)), "{error:?}");
        assert_eq!(std::fs::read_to_string(&state).unwrap(), "{");

        // Well-formed, but the state of a log signed by another key.
        let foreign = FakeLog::signed_by(log_signer(9), Some(tree("b", 5)));
        let foreign_state = WitnessState {
            checkpoint: unverified_body(&foreign.note().unwrap()).unwrap(),
            note: foreign.note().unwrap(),
        };
        std::fs::write(&state, foreign_state.to_json()).unwrap();
        let error = round(&log, &state).await.unwrap_err();
        assert!(matches!(error, WitnessError::State(_)), "{error:?}");

        // Summary fields edited away from the signed checkpoint.
        let honest = WitnessState {
            checkpoint: unverified_body(&log.note().unwrap()).unwrap(),
            note: log.note().unwrap(),
        };
        let edited = honest.to_json().replace("\"size\": 5", "\"size\": 4");
        assert_ne!(edited, honest.to_json());
        std::fs::write(&state, &edited).unwrap();
        let error = round(&log, &state).await.unwrap_err();
        assert!(matches!(error, WitnessError::State(_)), "{error:?}");
        assert_eq!(std::fs::read_to_string(&state).unwrap(), edited);

        assert!(log.posted.borrow().is_empty());
        // The honest state reads back.
        std::fs::write(&state, honest.to_json()).unwrap();
        assert_eq!(load_state(&state, &log_key()).unwrap(), Some(honest));
    }

    #[test]
    fn generated_keys_are_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let args = WitnessKeyArgs {
            name: "witness.example/w1".into(),
            out: dir.path().join("keys/witness.key"),
        };
        let vkey = generate_key(&args).unwrap();
        let verifier = CosignatureVerifier::from_vkey(&vkey).unwrap();
        assert_eq!(verifier.name().as_str(), "witness.example/w1");

        let text = std::fs::read_to_string(&args.out).unwrap();
        let signer = CosignatureSigner::from_skey(text.trim()).unwrap();
        assert_eq!(signer.verifier(), verifier);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&args.out).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }

        // Never overwritten; and two keys are not the same key.
        assert!(generate_key(&args).is_err());
        assert_eq!(std::fs::read_to_string(&args.out).unwrap(), text);
        let second = WitnessKeyArgs {
            name: args.name.clone(),
            out: dir.path().join("second.key"),
        };
        assert_ne!(generate_key(&second).unwrap(), vkey);
        let bad = WitnessKeyArgs {
            name: "has space".into(),
            out: dir.path().join("bad.key"),
        };
        assert!(generate_key(&bad).is_err());
        assert!(!bad.out.exists());
    }

    /// A one-thread HTTP server that answers `answers.len()` requests, one connection
    /// each, matching each request line's target, and returns the requests it read.
    fn serve(
        answers: Vec<(&'static str, u16, &'static str, String)>,
    ) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for _ in 0..answers.len() {
                let (mut stream, _) = listener.accept().unwrap();
                let request = read_request(&mut stream);
                let target = request.split(' ').nth(1).unwrap_or_default().to_owned();
                let (_, status, content_type, body) = answers
                    .iter()
                    .find(|(t, ..)| *t == target)
                    .unwrap_or_else(|| panic!("unexpected request {request}"));
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(response.as_bytes()).unwrap();
                seen.push(request);
            }
            seen
        });
        (base, handle)
    }

    fn read_request(stream: &mut std::net::TcpStream) -> String {
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).unwrap();
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if raw.len() >= end + 4 + length || n == 0 {
                    return text;
                }
            }
            if n == 0 {
                return text;
            }
        }
    }

    #[tokio::test]
    async fn a_round_over_http_fetches_proves_and_posts() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        round(&FakeLog::new(Some(tree("a", 5))), &state)
            .await
            .unwrap();

        let grown = FakeLog::new(Some(tree("a", 8)));
        let proof: Vec<String> = consistency_proof(&tree("a", 8), 5, 8)
            .unwrap()
            .iter()
            .map(Hash::to_base64)
            .collect();
        let proof_json =
            serde_json::json!({"first": 5, "second": 8, "consistency_path": proof}).to_string();
        let (base, server) = serve(vec![
            (
                CHECKPOINT_PATH,
                200,
                "text/plain; charset=utf-8",
                grown.note().unwrap(),
            ),
            (
                "/api/v1/ledger/proof/consistency?from=5&to=8",
                200,
                "application/json",
                proof_json,
            ),
            (COSIGNATURE_PATH, 201, "application/json", "{}".into()),
        ]);
        let http = HttpLog::new(&format!("{base}/")).unwrap();
        let outcome = witness_round(&http, &log_key(), &witness(), &state, NOW)
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Cosigned(_)));
        assert_eq!(stored(&state).size(), 8);

        let requests = server.join().unwrap();
        let post = requests.last().unwrap();
        assert!(
            post.starts_with("POST /api/v1/ledger/cosignature "),
            "{post}"
        );
        assert!(
            post.to_ascii_lowercase()
                .contains("content-type: application/json")
        );
        let body: serde_json::Value =
            serde_json::from_str(post.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["size"], 8);
        assert_valid_cosignature(&grown, body["signature"].as_str().unwrap());
    }

    #[tokio::test]
    async fn http_answers_map_to_nothing_to_do_or_errors_with_the_detail() {
        let problem_404 = r#"{"title":"Not Found","detail":"no checkpoint yet"}"#;
        let problem_400 = r#"{"title":"Bad Request","detail":"unknown witness key"}"#;
        let (base, server) = serve(vec![
            (
                CHECKPOINT_PATH,
                404,
                "application/problem+json",
                problem_404.into(),
            ),
            (
                "/api/v1/ledger/proof/consistency?from=2&to=3",
                200,
                "application/json",
                r#"{"first":1,"second":3,"consistency_path":[]}"#.into(),
            ),
            (
                COSIGNATURE_PATH,
                400,
                "application/problem+json",
                problem_400.into(),
            ),
        ]);
        let http = HttpLog::new(&base).unwrap();
        assert_eq!(http.checkpoint().await.unwrap(), None);
        let error = http.consistency(2, 3).await.unwrap_err().to_string();
        assert!(error.contains("from 1 to 3"), "{error}");
        let error = format!("{:#}", http.post_cosignature(3, "line").await.unwrap_err());
        assert!(
            error.contains("400") && error.contains("unknown witness key"),
            "{error}"
        );
        server.join().unwrap();

        assert!(HttpLog::new("https://hub.example").is_err());
        assert!(HttpLog::new("hub.example:8080").is_err());
    }
}
