//! One keep-alive HTTP/1.1 connection, and the requests the load loops send over it.
//!
//! The load generator uses hyper's low-level connection (`client::conn::http1`) rather than
//! a pooled client, so "N connections" means exactly N sockets, each carrying one request
//! at a time, as a real fleet of callers would.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// How long a connection attempt may take. Loopback connects in microseconds; a second
/// only passes when the server's accept queue is full, which is worth reporting as an error.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one single-claim or health request may take before it counts as an error.
/// Far above any sane latency, so it only ends a run that would otherwise hang.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The path of the ceiling endpoint.
pub const HEALTHZ: &str = "/healthz";
/// The path of single-claim verification.
pub const VERIFY: &str = "/api/v1/nik/verifikasi";
/// The path of batch verification.
pub const VERIFY_BATCH: &str = "/api/v1/nik/verifikasi/batch";

/// A request body type shared by every request the generator sends.
pub type Body = Full<Bytes>;

/// One open HTTP/1.1 connection.
pub struct Conn {
    sender: SendRequest<Body>,
    /// The task driving the socket; aborted on drop so no connection outlives its run.
    driver: JoinHandle<()>,
}

impl Conn {
    /// Connects to `addr` (with `TCP_NODELAY`, as every HTTP client does) and completes the
    /// HTTP/1.1 handshake.
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
            .await
            .context("connect timed out")?
            .context("connect failed")?;
        stream.set_nodelay(true).context("setting TCP_NODELAY")?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake failed")?;
        let driver = tokio::spawn(async move {
            // The connection ends with an error when the peer resets it; the request that
            // was in flight sees that error and counts it, so nothing is lost here.
            let _ = connection.await;
        });
        Ok(Self { sender, driver })
    }

    /// Sends `request` and reads the whole response body, so the connection can carry the
    /// next request.
    pub async fn send(&mut self, request: Request<Body>) -> anyhow::Result<(StatusCode, Bytes)> {
        self.sender.ready().await.context("connection closed")?;
        let response = self
            .sender
            .send_request(request)
            .await
            .context("request failed")?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .context("reading the response body")?
            .to_bytes();
        Ok((status, body))
    }

    /// [`Conn::send`] bounded by `limit`.
    pub async fn send_within(
        &mut self,
        request: Request<Body>,
        limit: Duration,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        tokio::time::timeout(limit, self.send(request))
            .await
            .context("request timed out")?
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// The bearer token and purpose every request of this run carries, set once by
/// [`authorize`] before any load starts. A process-wide value rather than a field threaded
/// through every workload: the load generator runs as one client for its whole life.
static AUTHORIZATION: std::sync::OnceLock<HeaderValue> = std::sync::OnceLock::new();

/// Gets an access token for the run with client credentials.
pub async fn authorize(
    target: &super::target::Target,
    client_id: &str,
    client_secret: &str,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let form = format!(
        "grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}"
    );
    let mut req = request(
        Method::POST,
        "/oauth/token",
        &target.host_header,
        Bytes::from(form),
    );
    req.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let mut conn = Conn::open(target.addr).await?;
    let (status, body) = conn
        .send_within(req, std::time::Duration::from_secs(10))
        .await?;
    anyhow::ensure!(
        status == hyper::StatusCode::OK,
        "the token endpoint answered {status}: check --client-id and --client-secret"
    );
    let token: serde_json::Value =
        serde_json::from_slice(&body).context("the token endpoint answered no JSON")?;
    let token = token["access_token"]
        .as_str()
        .context("no access_token in the token answer")?;
    let value = HeaderValue::from_str(&format!("Bearer {token}")).context("token header")?;
    // A second call keeps the first token: one run, one client.
    let _ = AUTHORIZATION.set(value);
    Ok(())
}

/// Builds a request with the headers every request carries.
pub fn request(
    method: Method,
    path: &'static str,
    host: &HeaderValue,
    body: Bytes,
) -> Request<Body> {
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = method;
    *request.uri_mut() = Uri::from_static(path);
    request.headers_mut().insert(HOST, host.clone());
    if let Some(authorization) = AUTHORIZATION.get() {
        request
            .headers_mut()
            .insert(hyper::header::AUTHORIZATION, authorization.clone());
        request
            .headers_mut()
            .insert("x-tujuan", HeaderValue::from_static("pengukuran kinerja"));
    }
    if request.method() == Method::POST {
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    request
}

/// The endpoint a load loop exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `GET /healthz`: the ceiling.
    Ceiling,
    /// `POST /api/v1/nik/verifikasi` with one claim.
    Verification,
}

impl Endpoint {
    /// The label used in tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ceiling => "ceiling `GET /healthz`",
            Self::Verification => "verification `POST /api/v1/nik/verifikasi`",
        }
    }
}

/// What a load loop sends: an endpoint, and for verification the claim bodies it cycles
/// through. Cheap to clone (the bodies are shared).
#[derive(Clone)]
pub struct Workload {
    /// The endpoint exercised.
    pub endpoint: Endpoint,
    host: HeaderValue,
    bodies: Arc<[Bytes]>,
}

impl Workload {
    /// The ceiling workload.
    pub fn ceiling(host: HeaderValue) -> Self {
        Self {
            endpoint: Endpoint::Ceiling,
            host,
            bodies: Arc::from(Vec::new()),
        }
    }

    /// Single-claim verification cycling through `bodies` (pre-serialised claims, so the
    /// loop spends no time on JSON).
    pub fn verification(host: HeaderValue, bodies: Arc<[Bytes]>) -> Self {
        Self {
            endpoint: Endpoint::Verification,
            host,
            bodies,
        }
    }

    /// The `seq`-th request of this workload.
    pub fn request(&self, seq: u64) -> Request<Body> {
        match self.endpoint {
            Endpoint::Ceiling => request(Method::GET, HEALTHZ, &self.host, Bytes::new()),
            Endpoint::Verification => {
                let body = match self.bodies.len() {
                    0 => Bytes::new(),
                    n => self.bodies[(seq % n as u64) as usize].clone(),
                };
                request(Method::POST, VERIFY, &self.host, body)
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! A minimal HTTP/1.1 keep-alive server for tests: it answers `GET` with 200 `ok` and
    //! `POST` with the status the test chooses, echoing nothing.

    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    use super::*;

    /// Behaviour of the test server.
    #[derive(Clone, Copy)]
    pub(crate) struct Fake {
        pub post_status: u16,
        /// Delay before each answer.
        pub delay: Duration,
    }

    /// Starts the fake server on an ephemeral loopback port and returns its address. It runs
    /// on plain threads (one per connection), so it needs no tokio I/O features and keeps
    /// running however the test's runtime is shaped; the threads end with the test process.
    pub(crate) async fn fake_server(fake: Fake) -> anyhow::Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve_connection(stream, fake));
            }
        });
        Ok(addr)
    }

    fn serve_connection(mut stream: TcpStream, fake: Fake) -> std::io::Result<()> {
        stream.set_nodelay(true)?;
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            // Read one request head, then its body by Content-Length.
            let head_end = loop {
                if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    return Ok(());
                }
                buffer.extend_from_slice(&chunk[..n]);
            };
            let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buffer.len() < head_end + length {
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    return Ok(());
                }
                buffer.extend_from_slice(&chunk[..n]);
            }
            buffer.drain(..head_end + length);
            std::thread::sleep(fake.delay);
            let status = if head.starts_with("post") {
                fake.post_status
            } else {
                200
            };
            let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\n\r\nok");
            stream.write_all(reply.as_bytes())?;
        }
    }

    #[tokio::test]
    async fn one_connection_carries_many_requests() -> anyhow::Result<()> {
        let addr = fake_server(Fake {
            post_status: 503,
            delay: Duration::ZERO,
        })
        .await?;
        let host = HeaderValue::from_static("127.0.0.1");
        let bodies: Arc<[Bytes]> = Arc::from(vec![Bytes::from_static(b"{\"a\":1}")]);
        let verify = Workload::verification(host.clone(), bodies);
        let ceiling = Workload::ceiling(host);
        let mut conn = Conn::open(addr).await?;
        for seq in 0..5 {
            let (status, body) = conn
                .send_within(ceiling.request(seq), REQUEST_TIMEOUT)
                .await?;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(&body[..], b"ok");
            let (status, _) = conn
                .send_within(verify.request(seq), REQUEST_TIMEOUT)
                .await?;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        }
        Ok(())
    }

    #[test]
    fn verification_requests_cycle_through_the_bodies() {
        let bodies: Arc<[Bytes]> =
            Arc::from(vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")]);
        let workload = Workload::verification(HeaderValue::from_static("h"), bodies);
        let sent: Vec<Bytes> = (0..4)
            .map(|seq| {
                let request = workload.request(seq);
                assert_eq!(request.method(), Method::POST);
                assert_eq!(request.uri().path(), VERIFY);
                assert_eq!(request.headers()[CONTENT_TYPE], "application/json");
                assert_eq!(request.headers()[HOST], "h");
                let body = request.into_body();
                futures::executor::block_on(body.collect())
                    .map(|c| c.to_bytes())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(sent, vec!["a", "b", "a", "b"]);
    }
}
