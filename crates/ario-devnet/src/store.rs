//! The devnet's persistent state: accepted data items and its RSA keys.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use ario_envelope::encoding::{b64url_encode, sha256};
use ario_gateway::ans104::DataItem;
use ario_gateway::wallet::{jwk_from_rsa, rsa_from_jwk, write_new_private};
use rsa::RsaPrivateKey;

/// One accepted item.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The parsed item.
    pub item: DataItem,
    /// Its id.
    pub id: String,
    /// base64url(SHA-256(owner)).
    pub owner_address: String,
    /// Upload time, ms since the epoch.
    pub timestamp: u64,
    /// Position in arrival order (the devnet's "block height").
    pub height: u64,
}

impl Stored {
    /// The `Content-Type` tag, or `application/octet-stream`.
    pub fn content_type(&self) -> &str {
        self.item
            .tags
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case("content-type"))
            .map_or("application/octet-stream", |t| t.value.as_str())
    }
}

/// Why the store could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Filesystem trouble.
    #[error("devnet data dir {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A key file is unusable.
    #[error("devnet key {}: {detail}", path.display())]
    Key {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// Items by id, in arrival order, mirrored on disk.
#[derive(Debug)]
pub struct ItemStore {
    dir: PathBuf,
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, usize>,
    items: Vec<Stored>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

impl ItemStore {
    /// Opens (and re-indexes) `dir/items`; unreadable or invalid files are skipped with a warning.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let items_dir = dir.join("items");
        std::fs::create_dir_all(&items_dir).map_err(io(&items_dir))?;
        let mut files: Vec<(u64, PathBuf)> = Vec::new();
        for e in std::fs::read_dir(&items_dir).map_err(io(&items_dir))? {
            let p = e.map_err(io(&items_dir))?.path();
            let seq = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split('-').next())
                .and_then(|s| s.parse().ok());
            if let Some(seq) = seq {
                files.push((seq, p));
            }
        }
        files.sort();
        let store = ItemStore {
            dir: items_dir,
            inner: RwLock::new(Inner::default()),
        };
        for (_, p) in files {
            let parsed = std::fs::read(&p)
                .ok()
                .and_then(|b| DataItem::parse(&b).ok())
                .filter(|i| i.verify().unwrap_or(false));
            let ts = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
            match parsed {
                Some(item) => {
                    store.index(item, ts);
                }
                None => {
                    tracing::warn!(path = %p.display(), "skipping an unreadable or invalid stored item")
                }
            }
        }
        Ok(store)
    }

    fn index(&self, item: DataItem, timestamp: u64) -> Stored {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let id = item.id();
        let stored = Stored {
            owner_address: b64url_encode(&sha256(&item.owner)),
            id: id.clone(),
            item,
            timestamp,
            height: inner.items.len() as u64 + 1,
        };
        let index = inner.items.len();
        inner.by_id.insert(id, index);
        inner.items.push(stored.clone());
        stored
    }

    /// Stores a verified item (durably, before indexing). `Ok(None)` if it is already known.
    pub fn insert(&self, item: DataItem, timestamp: u64) -> Result<Option<Stored>, StoreError> {
        let id = item.id();
        if self.get(&id).is_some() {
            return Ok(None);
        }
        let seq = self.len() + 1;
        let path = self.dir.join(format!("{seq:012}-{id}.bin"));
        let tmp = self.dir.join(format!(".{id}.tmp"));
        std::fs::write(&tmp, item.to_bytes()).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(Some(self.index(item, timestamp)))
    }

    /// The item with `id`.
    pub fn get(&self, id: &str) -> Option<Stored> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.by_id.get(id).map(|&i| inner.items[i].clone())
    }

    /// Number of items.
    pub fn len(&self) -> u64 {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .items
            .len() as u64
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every item in arrival order.
    pub fn all(&self) -> Vec<Stored> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .items
            .clone()
    }
}

/// Loads the RSA key at `path`, or creates it (0600) with `bits`.
pub fn load_or_create_key(path: &Path, bits: usize) -> Result<RsaPrivateKey, StoreError> {
    let key_err = |detail: String| StoreError::Key {
        path: path.to_owned(),
        detail,
    };
    if path.exists() {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let jwk = serde_json::from_str(&text).map_err(|e| key_err(e.to_string()))?;
        return rsa_from_jwk(&jwk).map_err(key_err);
    }
    let key =
        RsaPrivateKey::new(&mut rand_core::OsRng, bits).map_err(|e| key_err(e.to_string()))?;
    let jwk = jwk_from_rsa(&key).map_err(key_err)?;
    write_new_private(path, jwk.to_string().as_bytes()).map_err(io(path))?;
    Ok(key)
}
