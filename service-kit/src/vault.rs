//! Provider credentials in the service's own database, encrypted at rest.
//!
//! - Storage: table `credentials` in `DATABASE_URL` through sqlx's `Any` driver (a SQLite file by default,
//!   PostgreSQL in compose), with runtime queries that run on both. The table is created on first use, so a
//!   service starts while its database is down and says so on `/ready`.
//! - Encryption: AES-256-GCM with a fresh random 96-bit nonce per encryption and the credential's name as
//!   associated data (a row copied under another name does not decrypt). Each row records the id of the key
//!   that encrypted it (the first 8 hex digits of the key's SHA-256).
//! - Keys: `CREDENTIALS_KEY` (or `CREDENTIALS_KEY_FILE`), 32 random bytes in base64
//!   (`openssl rand -base64 32`), is required: without it the service refuses to start, naming the variable.
//!   There is no built-in default key, because a key shipped in the source would protect nothing. To change
//!   the key, put the old one in `CREDENTIALS_KEY_PREVIOUS` (comma-separated, base64) and the new one in
//!   `CREDENTIALS_KEY`: rows are readable under either, and [`Vault::reencrypt_all`] (run at start) moves
//!   them to the new key.
//! - Values from the environment: [`Vault::seed_from_environment`] stores the value read at start unless the
//!   same value was already seeded before, so a credential rotated through the admin endpoint survives a
//!   restart until the deployment's own value changes.
//! - Rotation: [`Vault::store`] replaces a value at once for this process; other replicas read it within
//!   [`CACHE_TTL`]. Only [`CredentialMetadata`] ever leaves the vault (fingerprint, time, key id, source).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, SecondsFormat, Utc};
use contracts::credentials::{CredentialMetadata, CredentialSource};
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::configuration::{self, ConfigError};
use crate::error::ErrorResponse;
use crate::ops::ReadinessCheck;

/// Secrets leave the vault wrapped; `expose_secret()` only where one is put on an outbound request.
pub use secrecy::{ExposeSecret, SecretString};

/// How long a decrypted value is served from memory before the database is read again.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const NONCE_BYTES: usize = 12;
const DATABASE_TIMEOUT: Duration = Duration::from_secs(3);

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS credentials (
    name TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    set_at TEXT NOT NULL,
    source TEXT NOT NULL,
    env_fingerprint TEXT
)";
const SELECT_COLUMNS: &str = "SELECT name, key_id, nonce, ciphertext, fingerprint, set_at, source, env_fingerprint FROM credentials";

/// One AES-256 key and its id.
#[derive(Clone)]
pub struct EncryptionKey {
    id: String,
    cipher: Aes256Gcm,
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl EncryptionKey {
    pub fn from_bytes(key: &[u8; 32]) -> Self {
        Self {
            id: hex::encode(&Sha256::digest(key)[..4]),
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// Decodes base64 of exactly 32 bytes; `variable` names the source in errors.
    pub fn from_base64(variable: &str, value: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::Invalid {
            name: variable.to_owned(),
            value: "(hidden)".to_owned(),
            reason: reason.to_owned(),
        };
        let bytes = BASE64
            .decode(value.trim())
            .map_err(|_| invalid("not base64 (generate one with `openssl rand -base64 32`)"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| invalid("must decode to exactly 32 bytes (`openssl rand -base64 32`)"))?;
        Ok(Self::from_bytes(&key))
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The key new values are encrypted with, and older keys still accepted for reading.
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: EncryptionKey,
    previous: Vec<EncryptionKey>,
}

impl KeyRing {
    pub fn new(current: EncryptionKey, previous: Vec<EncryptionKey>) -> Self {
        Self { current, previous }
    }

    /// `CREDENTIALS_KEY` (required, or `CREDENTIALS_KEY_FILE`) and `CREDENTIALS_KEY_PREVIOUS` (optional list).
    pub fn from_env() -> Result<Self, ConfigError> {
        let current =
            configuration::secret("CREDENTIALS_KEY")?.ok_or_else(|| ConfigError::Missing {
                name: "CREDENTIALS_KEY (32 random bytes in base64: `openssl rand -base64 32`)"
                    .to_owned(),
            })?;
        let current = EncryptionKey::from_base64("CREDENTIALS_KEY", &current)?;
        let previous = configuration::secret("CREDENTIALS_KEY_PREVIOUS")?
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|key| EncryptionKey::from_base64("CREDENTIALS_KEY_PREVIOUS", key))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Self::new(current, previous))
    }

    pub fn current(&self) -> &EncryptionKey {
        &self.current
    }

    fn by_id(&self, id: &str) -> Option<&EncryptionKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
    }
}

/// Why the vault could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the credential database is unavailable: {0}")]
    Database(#[from] sqlx::Error),
    #[error(
        "credential `{name}` is encrypted under key `{key_id}`, which is neither CREDENTIALS_KEY nor in CREDENTIALS_KEY_PREVIOUS"
    )]
    UnknownKey { name: String, key_id: String },
    #[error("credential `{name}` does not decrypt (wrong key or a tampered row)")]
    Undecryptable { name: String },
}

impl From<VaultError> for ErrorResponse {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::Database(_) => {
                tracing::warn!(%error, "credential store unavailable");
                ErrorResponse::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "credential_store_unavailable",
                    "the service's credential database is unavailable; see its logs",
                )
                .retry_after(5)
            }
            other => ErrorResponse::internal(&other),
        }
    }
}

impl axum::response::IntoResponse for VaultError {
    fn into_response(self) -> axum::response::Response {
        ErrorResponse::from(self).into_response()
    }
}

/// `sha256:` and the first 12 hex digits of the value's SHA-256.
pub fn fingerprint(secret: &str) -> String {
    format!(
        "sha256:{}",
        hex::encode(&Sha256::digest(secret.as_bytes())[..6])
    )
}

struct CachedSecret {
    value: SecretString,
    read_at: Instant,
}

struct Inner {
    pool: AnyPool,
    keys: KeyRing,
    schema: tokio::sync::OnceCell<()>,
    cache: RwLock<HashMap<String, CachedSecret>>,
}

/// The credential store of one service. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("key_id", &self.inner.keys.current.id)
            .finish_non_exhaustive()
    }
}

/// A stored row, as read.
struct StoredRow {
    name: String,
    key_id: String,
    nonce: String,
    ciphertext: String,
    fingerprint: String,
    set_at: String,
    source: String,
    env_fingerprint: Option<String>,
}

impl StoredRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            name: row.try_get("name")?,
            key_id: row.try_get("key_id")?,
            nonce: row.try_get("nonce")?,
            ciphertext: row.try_get("ciphertext")?,
            fingerprint: row.try_get("fingerprint")?,
            set_at: row.try_get("set_at")?,
            source: row.try_get("source")?,
            env_fingerprint: row.try_get("env_fingerprint")?,
        })
    }

    fn metadata(&self) -> CredentialMetadata {
        CredentialMetadata {
            name: self.name.clone(),
            fingerprint: self.fingerprint.clone(),
            set_at: DateTime::parse_from_rfc3339(&self.set_at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
            key_id: self.key_id.clone(),
            source: if self.source == "rotation" {
                CredentialSource::Rotation
            } else {
                CredentialSource::Environment
            },
        }
    }
}

fn source_name(source: CredentialSource) -> &'static str {
    match source {
        CredentialSource::Environment => "environment",
        CredentialSource::Rotation => "rotation",
    }
}

/// A SQLite URL that creates its file, whose directory exists; other URLs unchanged.
fn prepare_database_url(url: &str) -> std::io::Result<String> {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Ok(url.to_owned());
    };
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if !path.is_empty()
        && path != ":memory:"
        && let Some(parent) = std::path::Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    if url.contains("mode=") {
        Ok(url.to_owned())
    } else if url.contains('?') {
        Ok(format!("{url}&mode=rwc"))
    } else {
        Ok(format!("{url}?mode=rwc"))
    }
}

impl Vault {
    /// A vault on `database_url` (`sqlite://./data/x.db`, `postgres://…`). Connects lazily: building it
    /// never fails because the database is down. A SQLite file and its directory are created when missing.
    pub fn connect(database_url: &str, keys: KeyRing) -> Result<Self, VaultError> {
        sqlx::any::install_default_drivers();
        let url = prepare_database_url(database_url)
            .map_err(|e| VaultError::Database(sqlx::Error::Io(e)))?;
        let pool = AnyPoolOptions::new()
            .max_connections(5)
            .acquire_timeout(DATABASE_TIMEOUT)
            .connect_lazy(&url)?;
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                keys,
                schema: tokio::sync::OnceCell::new(),
                cache: RwLock::new(HashMap::new()),
            }),
        })
    }

    async fn pool(&self) -> Result<&AnyPool, VaultError> {
        self.inner
            .schema
            .get_or_try_init(|| async {
                sqlx::query(CREATE_TABLE)
                    .execute(&self.inner.pool)
                    .await
                    .map(|_| ())
            })
            .await?;
        Ok(&self.inner.pool)
    }

    /// Encrypts and stores `secret` under `name`, replacing any value; answers its metadata.
    pub async fn store(
        &self,
        name: &str,
        secret: &str,
        source: CredentialSource,
    ) -> Result<CredentialMetadata, VaultError> {
        let key = &self.inner.keys.current;
        let (nonce, ciphertext) = encrypt(key, name, secret);
        let set_at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let fingerprint = fingerprint(secret);
        let statement = match source {
            CredentialSource::Environment => {
                "INSERT INTO credentials (name, key_id, nonce, ciphertext, fingerprint, set_at, source, env_fingerprint)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $5)
                 ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, nonce = excluded.nonce,
                   ciphertext = excluded.ciphertext, fingerprint = excluded.fingerprint, set_at = excluded.set_at,
                   source = excluded.source, env_fingerprint = excluded.env_fingerprint"
            }
            CredentialSource::Rotation => {
                "INSERT INTO credentials (name, key_id, nonce, ciphertext, fingerprint, set_at, source)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, nonce = excluded.nonce,
                   ciphertext = excluded.ciphertext, fingerprint = excluded.fingerprint, set_at = excluded.set_at,
                   source = excluded.source"
            }
        };
        sqlx::query(statement)
            .bind(name)
            .bind(key.id())
            .bind(BASE64.encode(nonce))
            .bind(BASE64.encode(&ciphertext))
            .bind(&fingerprint)
            .bind(&set_at)
            .bind(source_name(source))
            .execute(self.pool().await?)
            .await?;
        self.inner.cache.write().expect("vault cache lock").insert(
            name.to_owned(),
            CachedSecret {
                value: SecretString::from(secret.to_owned()),
                read_at: Instant::now(),
            },
        );
        tracing::info!(credential = name, %fingerprint, source = source_name(source), "credential stored");
        self.metadata(name)
            .await?
            .ok_or_else(|| VaultError::Database(sqlx::Error::RowNotFound))
    }

    /// Stores a value read from the environment at start, unless this same value was seeded before (so a
    /// value rotated since then is kept). Answers the metadata of what is stored now.
    pub async fn seed_from_environment(
        &self,
        name: &str,
        secret: &str,
    ) -> Result<CredentialMetadata, VaultError> {
        if let Some(row) = self.row(name).await?
            && row.env_fingerprint.as_deref() == Some(fingerprint(secret).as_str())
        {
            return Ok(row.metadata());
        }
        self.store(name, secret, CredentialSource::Environment)
            .await
    }

    /// The decrypted value, from memory when read within [`CACHE_TTL`].
    pub async fn get(&self, name: &str) -> Result<Option<SecretString>, VaultError> {
        if let Some(cached) = self.inner.cache.read().expect("vault cache lock").get(name)
            && cached.read_at.elapsed() < CACHE_TTL
        {
            return Ok(Some(cached.value.clone()));
        }
        let Some(row) = self.row(name).await? else {
            self.inner
                .cache
                .write()
                .expect("vault cache lock")
                .remove(name);
            return Ok(None);
        };
        let value = SecretString::from(self.decrypt(&row)?);
        self.inner.cache.write().expect("vault cache lock").insert(
            name.to_owned(),
            CachedSecret {
                value: value.clone(),
                read_at: Instant::now(),
            },
        );
        Ok(Some(value))
    }

    /// Metadata of one credential.
    pub async fn metadata(&self, name: &str) -> Result<Option<CredentialMetadata>, VaultError> {
        Ok(self.row(name).await?.map(|row| row.metadata()))
    }

    /// Metadata of every stored credential, by name.
    pub async fn list(&self) -> Result<Vec<CredentialMetadata>, VaultError> {
        let rows = sqlx::query(&format!("{SELECT_COLUMNS} ORDER BY name"))
            .fetch_all(self.pool().await?)
            .await?;
        rows.iter()
            .map(|row| Ok(StoredRow::from_row(row)?.metadata()))
            .collect()
    }

    /// Removes a credential; answers whether there was one.
    pub async fn remove(&self, name: &str) -> Result<bool, VaultError> {
        let result = sqlx::query("DELETE FROM credentials WHERE name = $1")
            .bind(name)
            .execute(self.pool().await?)
            .await?;
        self.inner
            .cache
            .write()
            .expect("vault cache lock")
            .remove(name);
        Ok(result.rows_affected() > 0)
    }

    /// Re-encrypts every row stored under a previous key with the current one; answers how many moved.
    pub async fn reencrypt_all(&self) -> Result<usize, VaultError> {
        let current = self.inner.keys.current.id().to_owned();
        let rows = sqlx::query(&format!("{SELECT_COLUMNS} WHERE key_id <> $1"))
            .bind(&current)
            .fetch_all(self.pool().await?)
            .await?;
        let mut moved = 0;
        for row in &rows {
            let row = StoredRow::from_row(row)?;
            let secret = self.decrypt(&row)?;
            let (nonce, ciphertext) = encrypt(&self.inner.keys.current, &row.name, &secret);
            sqlx::query("UPDATE credentials SET key_id = $1, nonce = $2, ciphertext = $3 WHERE name = $4 AND key_id = $5")
                .bind(&current)
                .bind(BASE64.encode(nonce))
                .bind(BASE64.encode(&ciphertext))
                .bind(&row.name)
                .bind(&row.key_id)
                .execute(self.pool().await?)
                .await?;
            moved += 1;
        }
        if moved > 0 {
            tracing::info!(moved, key_id = %current, "credentials re-encrypted under the current key");
        }
        Ok(moved)
    }

    /// `/ready` check: the database answers and the table exists.
    pub fn readiness(&self) -> Box<dyn ReadinessCheck> {
        Box::new(VaultReadiness(self.clone()))
    }

    async fn row(&self, name: &str) -> Result<Option<StoredRow>, VaultError> {
        let row = sqlx::query(&format!("{SELECT_COLUMNS} WHERE name = $1"))
            .bind(name)
            .fetch_optional(self.pool().await?)
            .await?;
        Ok(row.as_ref().map(StoredRow::from_row).transpose()?)
    }

    fn decrypt(&self, row: &StoredRow) -> Result<String, VaultError> {
        let key = self
            .inner
            .keys
            .by_id(&row.key_id)
            .ok_or_else(|| VaultError::UnknownKey {
                name: row.name.clone(),
                key_id: row.key_id.clone(),
            })?;
        let undecryptable = || VaultError::Undecryptable {
            name: row.name.clone(),
        };
        let nonce = BASE64.decode(&row.nonce).map_err(|_| undecryptable())?;
        let ciphertext = BASE64
            .decode(&row.ciphertext)
            .map_err(|_| undecryptable())?;
        if nonce.len() != NONCE_BYTES {
            return Err(undecryptable());
        }
        let plaintext = key
            .cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: row.name.as_bytes(),
                },
            )
            .map_err(|_| undecryptable())?;
        String::from_utf8(plaintext).map_err(|_| undecryptable())
    }
}

fn encrypt(key: &EncryptionKey, name: &str, secret: &str) -> ([u8; NONCE_BYTES], Vec<u8>) {
    let mut nonce = [0u8; NONCE_BYTES];
    rand::rng().fill(&mut nonce);
    let ciphertext = key
        .cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret.as_bytes(),
                aad: name.as_bytes(),
            },
        )
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    (nonce, ciphertext)
}

struct VaultReadiness(Vault);

#[async_trait]
impl ReadinessCheck for VaultReadiness {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn check(&self) -> Result<(), String> {
        let probe = async {
            sqlx::query("SELECT 1")
                .execute(self.0.pool().await?)
                .await?;
            Ok::<(), VaultError>(())
        };
        tokio::time::timeout(DATABASE_TIMEOUT, probe)
            .await
            .map_err(|_| "no answer in time".to_owned())?
            .map_err(|e| e.to_string())
    }
}
