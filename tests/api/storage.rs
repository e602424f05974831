//! The object store over real HTTP: the same aws-sdk-s3 client code the app uses.

use xuncha::storage::{ObjectKey, ObjectStore, StorageError, StoreEndpoint};

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread")]
async fn an_object_round_trips_through_the_store() {
    let app = spawn_app().await;
    let store = app.store();
    let key = ObjectKey::probe(uuid::Uuid::now_v7());
    let bytes: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();

    store
        .put(&key, bytes.clone().into(), "application/octet-stream")
        .await
        .unwrap();
    let read = store.get(&key).await.unwrap();
    assert_eq!(read.bytes.as_ref(), bytes.as_slice());
    assert_eq!(
        read.content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert!(
        store
            .list("probes/")
            .await
            .unwrap()
            .contains(&key.as_str().to_owned())
    );

    store.delete(&key).await.unwrap();
    assert!(matches!(store.get(&key).await, Err(StorageError::NotFound)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_is_refused_by_the_store() {
    let app = spawn_app().await;
    if app.embedded_store.is_none() {
        // Some external test servers (moto) do not check signatures.
        return;
    }
    let wrong = ObjectStore::new(&StoreEndpoint {
        secret_access_key: "not-the-secret".into(),
        ..app.store_endpoint.clone()
    });
    let key = ObjectKey::probe(uuid::Uuid::now_v7());
    let result = wrong
        .put(&key, vec![1, 2, 3].into(), "application/octet-stream")
        .await;
    assert!(
        matches!(result, Err(StorageError::Unavailable(_))),
        "{:?}",
        result.err()
    );
    assert!(matches!(
        app.store().get(&key).await,
        Err(StorageError::NotFound)
    ));
}
