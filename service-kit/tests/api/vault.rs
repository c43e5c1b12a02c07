//! The credential vault on SQLite and on PostgreSQL: encrypted rows, fresh nonces, rotation, key changes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use contracts::credentials::CredentialSource;
use service_kit::vault::{ExposeSecret, KeyRing, Vault, VaultError, fingerprint};
use sqlx::{Any, Pool, Row};

use crate::helpers::{TestDatabase, key_ring, random_key};

const SECRET: &str = "ghp_s3cr3t-value-that-must-never-be-stored-in-clear";

/// Runs `check` against a fresh SQLite file and a fresh PostgreSQL database.
async fn on_both_databases<F, Fut>(check: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    check(format!("sqlite://{}/nested/vault.db", dir.path().display())).await;
    let postgres = TestDatabase::create().await;
    check(postgres.url.clone()).await;
}

async fn raw_rows(url: &str) -> Vec<Vec<String>> {
    let pool: Pool<Any> = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&if url.starts_with("sqlite") {
            format!("{url}?mode=rw")
        } else {
            url.to_owned()
        })
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT name, key_id, nonce, ciphertext, fingerprint, set_at, source FROM credentials",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let rows = rows
        .iter()
        .map(|row| {
            (0..7)
                .map(|i| row.try_get::<String, _>(i).unwrap())
                .collect()
        })
        .collect();
    pool.close().await;
    rows
}

#[tokio::test]
async fn stored_rows_hold_no_plaintext_and_every_encryption_differs() {
    on_both_databases(|url| async move {
        let keys = key_ring();
        let vault = Vault::connect(&url, keys.clone()).unwrap();
        vault
            .store("first", SECRET, CredentialSource::Environment)
            .await
            .unwrap();
        vault
            .store("second", SECRET, CredentialSource::Environment)
            .await
            .unwrap();
        let rows = raw_rows(&url).await;
        assert_eq!(rows.len(), 2, "{url}");
        for row in &rows {
            for column in row {
                assert!(
                    !column.contains(SECRET),
                    "plaintext in a column on {url}: {row:?}"
                );
                assert!(
                    !column.contains(&BASE64.encode(SECRET)),
                    "base64 plaintext on {url}"
                );
                assert!(
                    !column.contains(&SECRET[4..20]),
                    "part of the plaintext on {url}"
                );
            }
        }
        assert_ne!(rows[0][2], rows[1][2], "the nonces are equal on {url}");
        assert_ne!(rows[0][3], rows[1][3], "the ciphertexts are equal on {url}");
        assert_eq!(rows[0][1], rows[1][1], "both under the current key");
        assert_eq!(rows[0][4], fingerprint(SECRET));

        // Storing the same value again under the same name also encrypts afresh.
        let before = raw_rows(&url).await;
        vault
            .store("first", SECRET, CredentialSource::Rotation)
            .await
            .unwrap();
        let after = raw_rows(&url).await;
        let nonce =
            |rows: &Vec<Vec<String>>| rows.iter().find(|r| r[0] == "first").unwrap()[2].clone();
        assert_ne!(nonce(&before), nonce(&after));

        // A second vault on the same database (another replica) reads it back.
        let other = Vault::connect(&url, keys).unwrap();
        assert_eq!(
            other.get("first").await.unwrap().unwrap().expose_secret(),
            SECRET
        );
        assert!(other.get("missing").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn only_metadata_leaves_and_rotation_survives_a_restart() {
    on_both_databases(|url| async move {
        let keys = KeyRing::new(random_key(), Vec::new());
        let vault = Vault::connect(&url, keys.clone()).unwrap();
        let seeded = vault
            .seed_from_environment("token", "from-env-1")
            .await
            .unwrap();
        assert_eq!(seeded.source, CredentialSource::Environment);
        assert_eq!(seeded.fingerprint, fingerprint("from-env-1"));
        assert_eq!(seeded.key_id, keys.current().id());
        let listed = serde_json::to_string(&vault.list().await.unwrap()).unwrap();
        assert!(!listed.contains("from-env-1"), "{listed}");

        let rotated = vault
            .store("token", "rotated-2", CredentialSource::Rotation)
            .await
            .unwrap();
        assert_eq!(rotated.source, CredentialSource::Rotation);
        assert!(rotated.set_at >= seeded.set_at);
        assert_eq!(
            vault.get("token").await.unwrap().unwrap().expose_secret(),
            "rotated-2"
        );

        // A restart with the same environment keeps the rotated value ...
        let restarted = Vault::connect(&url, keys.clone()).unwrap();
        restarted
            .seed_from_environment("token", "from-env-1")
            .await
            .unwrap();
        assert_eq!(
            restarted
                .get("token")
                .await
                .unwrap()
                .unwrap()
                .expose_secret(),
            "rotated-2"
        );
        // ... and a new value in the environment replaces it.
        restarted
            .seed_from_environment("token", "from-env-3")
            .await
            .unwrap();
        assert_eq!(
            restarted
                .get("token")
                .await
                .unwrap()
                .unwrap()
                .expose_secret(),
            "from-env-3"
        );
        assert!(restarted.remove("token").await.unwrap());

        // A value that only ever came through rotation (no environment fingerprint) is replaced by a seed.
        restarted
            .store("rotated-only", "r", CredentialSource::Rotation)
            .await
            .unwrap();
        assert_eq!(restarted.list().await.unwrap().len(), 1);
        restarted
            .seed_from_environment("rotated-only", "e")
            .await
            .unwrap();
        assert_eq!(
            restarted
                .get("rotated-only")
                .await
                .unwrap()
                .unwrap()
                .expose_secret(),
            "e"
        );
        assert!(restarted.get("token").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn a_new_key_reads_old_rows_through_the_previous_keys_and_moves_them() {
    on_both_databases(|url| async move {
        let old = random_key();
        let new = random_key();
        let vault = Vault::connect(&url, KeyRing::new(old.clone(), Vec::new())).unwrap();
        vault
            .store("token", SECRET, CredentialSource::Environment)
            .await
            .unwrap();

        let without_old = Vault::connect(&url, KeyRing::new(new.clone(), Vec::new())).unwrap();
        assert!(matches!(
            without_old.get("token").await,
            Err(VaultError::UnknownKey { .. })
        ));

        let rotated = Vault::connect(&url, KeyRing::new(new.clone(), vec![old.clone()])).unwrap();
        assert_eq!(
            rotated.get("token").await.unwrap().unwrap().expose_secret(),
            SECRET
        );
        assert_eq!(rotated.reencrypt_all().await.unwrap(), 1);
        assert_eq!(
            rotated.metadata("token").await.unwrap().unwrap().key_id,
            new.id()
        );
        assert_eq!(rotated.reencrypt_all().await.unwrap(), 0);
        let new_only = Vault::connect(&url, KeyRing::new(new, Vec::new())).unwrap();
        assert_eq!(
            new_only
                .get("token")
                .await
                .unwrap()
                .unwrap()
                .expose_secret(),
            SECRET
        );
    })
    .await;
}

#[tokio::test]
async fn a_row_copied_under_another_name_does_not_decrypt() {
    on_both_databases(|url| async move {
        let keys = KeyRing::new(random_key(), Vec::new());
        let vault = Vault::connect(&url, keys.clone()).unwrap();
        vault
            .store("a", SECRET, CredentialSource::Environment)
            .await
            .unwrap();
        vault
            .store("b", "other", CredentialSource::Environment)
            .await
            .unwrap();
        let pool: Pool<Any> = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        sqlx::query(
            "UPDATE credentials SET nonce = (SELECT nonce FROM credentials WHERE name = 'a'),
             ciphertext = (SELECT ciphertext FROM credentials WHERE name = 'a') WHERE name = 'b'",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let fresh = Vault::connect(&url, keys).unwrap();
        assert!(matches!(
            fresh.get("b").await,
            Err(VaultError::Undecryptable { .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn a_database_that_is_down_is_an_error_not_a_hang_and_ready_says_so() {
    let vault = Vault::connect("postgres://postgres@127.0.0.1:1/none", key_ring()).unwrap();
    let started = std::time::Instant::now();
    assert!(matches!(vault.get("x").await, Err(VaultError::Database(_))));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let check = vault.readiness();
    assert_eq!(check.name(), "database");
    assert!(check.check().await.is_err());
}
