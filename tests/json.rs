//! Every `--json` output against its documented shape (docs/json.md).

mod common;

use std::fs;

use common::Ctx;
use common::synth::{PortSpec, write_port};
use serde_json::Value;

fn json(ctx: &Ctx, args: &[&str]) -> Value {
    let out = ctx.run(args);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", String::from_utf8_lossy(&out.stdout)))
}

/// `v` is an object with exactly these keys, each of the given JSON type.
fn shape(v: &Value, fields: &[(&str, &str)]) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    let mut want: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    want.sort();
    assert_eq!(keys, want, "{v}");
    for (k, t) in fields {
        let x = &obj[*k];
        let ok = match *t {
            "str" => x.is_string(),
            "int" => x.is_u64() || x.is_i64(),
            "bool" => x.is_boolean(),
            "array" => x.is_array(),
            "object" => x.is_object(),
            "str|null" => x.is_string() || x.is_null(),
            "int|null" => x.is_u64() || x.is_null(),
            _ => unreachable!(),
        };
        assert!(ok, "{k} should be {t} in {v}");
    }
}

#[test]
fn json_outputs_have_their_documented_shapes() {
    let ctx = Ctx::with_own_tree();
    write_port(&ctx, &PortSpec::hello("hello"));
    write_port(
        &ctx,
        &PortSpec {
            depends: &["hello"],
            ..PortSpec::hello("app")
        },
    );
    ctx.ok(&["install", "app"]);

    let list = json(&ctx, &["list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    shape(
        &list[0],
        &[("name", "str"), ("version", "str"), ("active", "bool")],
    );

    let avail = json(&ctx, &["list", "--available", "--json"]);
    shape(
        &avail[0],
        &[
            ("name", "str"),
            ("version", "str"),
            ("category", "str"),
            ("summary", "str"),
        ],
    );

    let info = json(&ctx, &["info", "app", "--json"]);
    shape(
        &info,
        &[
            ("name", "str"),
            ("version", "str"),
            ("summary", "str"),
            ("homepage", "str"),
            ("license", "str"),
            ("category", "str"),
            ("depends", "array"),
            ("runtime_depends", "array"),
            ("sources", "array"),
            ("patches", "array"),
            ("overlays", "array"),
            ("installed", "array"),
        ],
    );
    assert_eq!(info["depends"], serde_json::json!(["hello"]));
    shape(
        &info["sources"][0],
        &[
            ("file", "str"),
            ("size", "int"),
            ("sha256", "str"),
            ("urls", "array"),
        ],
    );
    shape(
        &info["installed"][0],
        &[("id", "str"), ("active", "bool"), ("tree_hash", "str")],
    );

    let deps = json(&ctx, &["deps", "app", "--json"]);
    assert_eq!(deps[1]["id"], "app-1.0");
    shape(
        &deps[0],
        &[("name", "str"), ("version", "str"), ("id", "str")],
    );

    let files = json(&ctx, &["files", "hello", "--json"]);
    shape(&files[0], &[("path", "str"), ("link", "str|null")]);
    assert_eq!(files[0]["link"], "/usr/bin/hello");

    let owner = json(&ctx, &["owner", "/usr/bin/hello", "--json"]);
    shape(
        &owner,
        &[("path", "str"), ("build", "str"), ("file", "str")],
    );
    assert_eq!(owner["build"], "hello-1.0");

    let history = json(&ctx, &["history", "--json"]);
    shape(
        &history[0],
        &[
            ("id", "int"),
            ("time", "int"),
            ("undo_of", "int|null"),
            ("command", "str"),
            ("end", "str"),
            ("switches", "array"),
        ],
    );
    assert_eq!(history[0]["end"], "committed");
    shape(
        &history[0]["switches"][0],
        &[("name", "str"), ("from", "str|null"), ("to", "str|null")],
    );

    fs::remove_file(ctx.root.join("usr/bin/hello")).unwrap();
    let check = json(&ctx, &["check", "--json"]);
    shape(&check, &[("findings", "array"), ("remaining", "int")]);
    shape(
        &check["findings"][0],
        &[
            ("kind", "str"),
            ("path", "str"),
            ("detail", "str"),
            ("repaired", "bool"),
        ],
    );
    assert_eq!(check["findings"][0]["kind"], "missing-link");

    let audit = json(&ctx, &["audit", "--json"]);
    shape(&audit, &[("ports", "array"), ("summary", "object")]);
    shape(
        &audit["ports"][0],
        &[
            ("name", "str"),
            ("version", "str"),
            ("patches", "array"),
            ("orphans", "array"),
            ("overlays", "array"),
            ("error", "str|null"),
        ],
    );
    shape(
        &audit["summary"],
        &[
            ("ports", "int"),
            ("ports_with_patches", "int"),
            ("patches", "int"),
            ("added", "int"),
            ("removed", "int"),
            ("upstream", "object"),
            ("failing", "int"),
            ("incomplete_headers", "int"),
            ("orphans", "int"),
        ],
    );

    // mirror sync, from a local directory mirror.
    let m = ctx.tmp.path().join("m");
    fs::create_dir_all(&m).unwrap();
    fs::write(m.join("a.tgz"), b"x").unwrap();
    ctx.ok(&["mirror", "index", m.to_str().unwrap()]);
    let sync = json(
        &ctx,
        &[
            "mirror",
            "sync",
            "--json",
            m.to_str().unwrap(),
            ctx.tmp.path().join("copy").to_str().unwrap(),
        ],
    );
    shape(
        &sync,
        &[
            ("added", "array"),
            ("present", "int"),
            ("conflicts", "array"),
            ("refused", "array"),
            ("failed", "array"),
            ("bytes", "int"),
        ],
    );
    assert_eq!(sync["added"], serde_json::json!(["a.tgz"]));
}
