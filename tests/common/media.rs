//! Uploads as a browser sends them: one file in a GraphQL multipart request.

use serde_json::{Value, json};

use super::{Account, TestServer};

pub const UPLOAD: &str = "mutation($file: Upload!) { uploadFile(file: $file) {
    id fileName contentType size width height url thumbnailUrl } }";

/// POSTs one file as a GraphQL multipart request.
pub async fn upload(server: &TestServer, who: &Account, file_name: &str, bytes: Vec<u8>) -> Value {
    upload_with(server, who, UPLOAD, file_name, bytes).await
}

/// The same with another operation, whose `$file` variable takes the file.
pub async fn upload_with(
    server: &TestServer,
    who: &Account,
    query: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Value {
    let operations = json!({ "query": query, "variables": { "file": null } });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.file"] }).to_string())
        .part(
            "0",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(file_name.to_owned())
                // What the client claims is ignored; the bytes decide.
                .mime_str("image/png")
                .expect("mime"),
        );
    let response = server
        .client
        .post(server.url("/graphql"))
        .bearer_auth(&who.access_token)
        .header("apollo-require-preflight", "true")
        .multipart(form)
        .send()
        .await
        .expect("upload sent");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    json!({ "status": status.as_u16(), "body": body })
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("png");
    bytes.into_inner()
}

/// Files under the media store, staging excluded.
pub fn stored_files(server: &TestServer) -> usize {
    let root = server.data_path().join("media");
    walk(&root) - staged_files(server)
}

/// Files in the media store's staging area (none once uploads are done).
pub fn staged_files(server: &TestServer) -> usize {
    walk(&server.data_path().join("media").join("staging"))
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| {
                    let path = entry.path();
                    if path.is_dir() { walk(&path) } else { 1 }
                })
                .sum()
        })
        .unwrap_or(0)
}

pub fn attachment_rows(server: &TestServer) -> i64 {
    let db = rusqlite::Connection::open(server.data_path().join("realtalk.db")).expect("db");
    db.query_row("SELECT COUNT(*) FROM attachments", [], |row| row.get(0))
        .expect("count")
}
