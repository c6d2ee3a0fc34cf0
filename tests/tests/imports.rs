//! No import circles: in every crate of the workspace, no module uses one that uses it back,
//! directly or around a longer loop. A module's own submodules are its business (it declares
//! them, and they may use what it defines), so a module's uses of its descendants are not
//! counted; every other `use crate::`/`super::`/`self::` path, in a `use` line or in the code,
//! is an arrow from the file to the module it names. Tests (`#[cfg(test)]` modules) are left
//! out: they may reach anywhere.
//!
//! `cargo test -p system-tests --test imports` (prints each circle with its files).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module: its path from the crate root (`[]` is the root) and its file.
type Modules = BTreeMap<Vec<String>, PathBuf>;

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let root = system_tests::repo_root()
        .canonicalize()
        .expect("the repository's root");
    let mut circles = Vec::new();
    for krate in ["darknet_port", "pl_driver", "app", "tests"] {
        for top in ["src/lib.rs", "src/main.rs", "lib.rs"] {
            let file = root.join(krate).join(top);
            if file.is_file() {
                circles.extend(circles_of_crate(&file));
            }
        }
    }
    let shown = circles
        .join("\n")
        .replace(&format!("{}/", root.display()), "");
    assert!(
        circles.is_empty(),
        "modules that import each other:\n{shown}"
    );
}

/// Finds the arrows the checker must see, and only those, on a made-up crate.
#[test]
fn the_checker_sees_a_circle_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("lib.rs", "pub mod a;\npub mod b;\npub mod c;\npub use a::A;\nfn f() { a::g(); }\n"),
        ("a.rs", "use crate::b::{self, inner::x};\n// use crate::c;\n#[cfg(test)]\nmod tests {\n    use crate::c;\n}\n"),
        ("b.rs", "pub mod inner;\nuse inner::X;\n"),
        ("b/inner.rs", "pub fn x() -> usize { crate::c::C }\n"),
        ("c.rs", "pub const C: usize = 1;\nfn h() { let s = \"crate::a\"; super::a::f(); }\n"),
    ];
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let circles = circles_of_crate(&dir.path().join("lib.rs"));
    assert_eq!(circles.len(), 1, "{circles:?}");
    for file in ["a.rs", "b/inner.rs", "c.rs"] {
        assert!(circles[0].contains(file), "{}", circles[0]);
    }
    // lib.rs and b.rs only use their own submodules
    assert!(
        !circles[0].contains("lib.rs") && !circles[0].contains("b.rs"),
        "{}",
        circles[0]
    );
}

/// Each circle of the crate rooted at `root_file`, as one line naming its files.
fn circles_of_crate(root_file: &Path) -> Vec<String> {
    let mut modules = Modules::new();
    discover(root_file, Vec::new(), &mut modules);
    let mut arrows: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        let code = without_tests(&strip_comments_and_strings(&text));
        for path in paths_in(&code) {
            let target = resolve(module, &path, &modules);
            if let Some(target) = target.filter(|t| !t.starts_with(module)) {
                arrows.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    strongly_connected(&modules, &arrows)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let files: Vec<String> = c.iter().map(|m| modules[m].display().to_string()).collect();
            files.join(" <-> ")
        })
        .collect()
}

/// Every module declared (`mod name;`, not under `#[cfg(test)]`) from `file` down.
fn discover(file: &Path, module: Vec<String>, modules: &mut Modules) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    modules.insert(module.clone(), file.to_path_buf());
    let dir = match file.file_name().and_then(|n| n.to_str()) {
        Some("lib.rs" | "main.rs" | "mod.rs") => file.parent().unwrap().to_path_buf(),
        _ => file.with_extension(""),
    };
    let code = strip_comments_and_strings(&text);
    let mut test_only = false;
    for line in code.lines().map(str::trim) {
        if line.starts_with("#[cfg(test)]") {
            test_only = true;
            continue;
        }
        let declared = line
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ")
            .strip_prefix("mod ")
            .and_then(|rest| rest.strip_suffix(';'));
        if let Some(name) = declared.filter(|_| !test_only) {
            let flat = dir.join(format!("{name}.rs"));
            let nested = dir.join(name).join("mod.rs");
            let child = if flat.is_file() { flat } else { nested };
            let mut path = module.clone();
            path.push(name.to_string());
            discover(&child, path, modules);
        }
        if !line.starts_with("#[") {
            test_only = false;
        }
    }
}

/// The text with comments and the insides of string and char literals blanked out, lines kept.
fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let (c, next) = (chars[i], chars.get(i + 1).copied());
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                } else if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            out.push_str("' '");
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            // an escaped char literal: '\n', '\'', '\u{..}'
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            out.push_str("' '");
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The code before its test module (`#[cfg(test)]` then `mod tests {`, at the file's end).
fn without_tests(code: &str) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let end = (0..lines.len())
        .find(|&i| {
            lines[i].trim() == "#[cfg(test)]"
                && lines
                    .get(i + 1)
                    .is_some_and(|l| l.trim().starts_with("mod ") && l.trim().ends_with('{'))
        })
        .unwrap_or(lines.len());
    lines[..end].join("\n")
}

/// The module paths the code names: every path of its private `use` lines (re-exports,
/// `pub use`, hand names on and are not counted), and every `crate::`/`super::`/`self::` path
/// elsewhere.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let tokens = tokenize(code);
    let mut paths = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "use" {
            let public = i > 0 && (tokens[i - 1] == "pub" || tokens[i - 1] == ")");
            let end = (i..tokens.len())
                .find(|&j| tokens[j] == ";")
                .unwrap_or(tokens.len());
            if !public {
                expand(&tokens[i + 1..end], &mut Vec::new(), &mut paths);
            }
            i = end;
        } else if matches!(tokens[i].as_str(), "crate" | "super" | "self")
            && tokens.get(i + 1).is_some_and(|t| t == "::")
        {
            let mut path = vec![tokens[i].clone()];
            i += 1;
            while tokens.get(i).is_some_and(|t| t == "::")
                && tokens.get(i + 1).is_some_and(|t| is_ident(t))
            {
                path.push(tokens[i + 1].clone());
                i += 2;
            }
            paths.push(path);
        } else {
            i += 1;
        }
    }
    paths
}

fn is_ident(token: &str) -> bool {
    token.chars().all(|c| c.is_alphanumeric() || c == '_') && !token.is_empty()
}

/// Identifiers, `::`, and every other character on its own.
fn tokenize(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".to_string());
            i += 2;
        } else {
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
            i += 1;
        }
    }
    tokens
}

/// The paths of a use tree (`a::b::{c, d::{self, e}}`), each behind `prefix`.
fn expand(tree: &[String], prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let depth = prefix.len();
    let mut i = 0;
    while i < tree.len() {
        match tree[i].as_str() {
            "::" => i += 1,
            "{" => {
                let close = matching_brace(tree, i);
                let mut start = i + 1;
                let mut level = 0;
                for j in i + 1..=close {
                    match tree[j].as_str() {
                        "{" => level += 1,
                        "}" if level > 0 => level -= 1,
                        "," | "}" if level == 0 => {
                            expand(&tree[start..j], prefix, out);
                            start = j + 1;
                        }
                        _ => {}
                    }
                }
                prefix.truncate(depth);
                return;
            }
            "as" => break,
            "*" => break,
            token if is_ident(token) => {
                if token != "self" || prefix.is_empty() {
                    prefix.push(token.to_string());
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    if !prefix.is_empty() {
        out.push(prefix.clone());
    }
    prefix.truncate(depth);
}

fn matching_brace(tokens: &[String], open: usize) -> usize {
    let mut level = 0;
    for (j, t) in tokens.iter().enumerate().skip(open) {
        match t.as_str() {
            "{" => level += 1,
            "}" => {
                level -= 1;
                if level == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    tokens.len() - 1
}

/// The deepest module of this crate that `path`, written in `module`, names; `None` for other
/// crates' paths.
fn resolve(module: &[String], path: &[String], modules: &Modules) -> Option<Vec<String>> {
    let mut at: Vec<String> = module.to_vec();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            at.clear();
            rest = &path[1..];
        }
        Some("self") => rest = &path[1..],
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                at.pop();
                rest = &rest[1..];
            }
        }
        Some(first) => {
            // a path from a name of this module: a submodule, or another crate
            let mut child = at.clone();
            child.push(first.to_string());
            if !modules.contains_key(&child) {
                return None;
            }
        }
        None => return None,
    }
    for segment in rest {
        let mut child = at.clone();
        child.push(segment.clone());
        if !modules.contains_key(&child) {
            break;
        }
        at = child;
    }
    Some(at)
}

/// Tarjan's strongly connected components of the arrows.
fn strongly_connected(
    modules: &Modules,
    arrows: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
) -> Vec<Vec<Vec<String>>> {
    struct State<'a> {
        arrows: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<Vec<String>, usize>,
        low: BTreeMap<Vec<String>, usize>,
        stack: Vec<Vec<String>>,
        on_stack: BTreeSet<Vec<String>>,
        components: Vec<Vec<Vec<String>>>,
    }
    fn visit(s: &mut State, v: &Vec<String>) {
        let n = s.index.len();
        s.index.insert(v.clone(), n);
        s.low.insert(v.clone(), n);
        s.stack.push(v.clone());
        s.on_stack.insert(v.clone());
        let empty = BTreeSet::new();
        let targets: Vec<Vec<String>> = s.arrows.get(v).unwrap_or(&empty).iter().cloned().collect();
        for w in &targets {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v.clone(), low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v.clone(), low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                let done = &w == v;
                component.push(w);
                if done {
                    break;
                }
            }
            s.components.push(component);
        }
    }
    let mut state = State {
        arrows,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for module in modules.keys() {
        if !state.index.contains_key(module) {
            visit(&mut state, module);
        }
    }
    state.components
}
