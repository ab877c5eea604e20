//! moto's S3-compatible server for the storage and image suites, started on a free port.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(30);

/// moto's S3 server, stopped when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where moto_server is: AGORA_MOTO_SERVER, the venv scripts/test.sh makes, or the PATH.
fn moto_server_command() -> String {
    if let Ok(explicit) = std::env::var("AGORA_MOTO_SERVER") {
        return explicit;
    }
    let venv = std::env::var("HOME").map(|home| format!("{home}/.cache/agora-test-venv/bin/moto_server"));
    match venv {
        Ok(path) if std::path::Path::new(&path).is_file() => path,
        _ => "moto_server".into(),
    }
}

pub async fn start_moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let command = moto_server_command();
    let child = Command::new(&command)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start the S3-compatible test server ({command}: {e}). Run scripts/test.sh, which installs \
                 moto[server] into ~/.cache/agora-test-venv, or set AGORA_MOTO_SERVER to a moto_server binary"
            )
        });
    let mut moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(format!("{}/moto-api/", moto.endpoint)).send().await {
            if response.status().is_success() {
                return moto;
            }
        }
        if let Ok(Some(status)) = moto.child.try_wait() {
            panic!("moto_server ({command}) exited with {status} before answering on port {port}");
        }
        assert!(started.elapsed() < DEADLINE, "moto_server did not answer on port {port} within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// moto with one bucket made, and the store over it.
pub async fn s3_with_bucket(bucket: &str) -> (Moto, agora_kernel::storage::S3Storage) {
    let moto = start_moto().await;
    // moto accepts any credentials; the bucket is made with a plain S3 CreateBucket call.
    let created = reqwest::Client::new().put(format!("{}/{bucket}", moto.endpoint)).send().await.unwrap();
    assert!(created.status().is_success(), "create bucket: {}", created.status());
    let settings = agora_kernel::storage::S3Settings {
        bucket: bucket.into(),
        endpoint: Some(moto.endpoint.clone()),
        region: "us-east-1".into(),
        access_key_id: "test-key".into(),
        secret_access_key: "test-secret".to_string().into(),
    };
    let storage = agora_kernel::storage::S3Storage::new(&settings).unwrap();
    (moto, storage)
}
