//! The model's seam: a scenario built in code as a `Spec`, validated by the
//! same rules, with the same errors (named by key, without a line, since
//! there is no file), as a scenario read from TOML.

use clustersim::dist::Dist;
use clustersim::model::spec::{AppSpec, Cpu, NodeSpec, Size};
use clustersim::model::{Located, Origin, Scenario, Spec};

fn node(name: &str, cores: u64) -> NodeSpec {
    NodeSpec {
        name: Located::new(name.into()),
        cpu: Some(Located::new(Cpu(cores * 1000))),
        memory: Some(Located::new(Size(8 << 30, false))),
        ..NodeSpec::default()
    }
}

fn app(name: &str, class: &str, cores: u64) -> AppSpec {
    AppSpec {
        name: Located::new(name.into()),
        class: Located::new(class.into()),
        cpu: Some(Located::new(Cpu(cores * 1000))),
        ..AppSpec::default()
    }
}

#[test]
fn a_spec_built_in_code_validates_like_a_file() {
    let mut spec = Spec::default();
    spec.node_defaults.failure = Some(Located::new(Dist::Exponential { mean_ms: 1000.0 * 3600.0 * 2000.0 }));
    spec.node_defaults.repair = Some(Located::new(Dist::Fixed(4 * 3600 * 1000)));
    spec.nodes = vec![node("mini-10", 4), node("mini-2", 4)];
    spec.apps = vec![app("plex", "flexible", 2)];
    let sc = Scenario::new(spec.clone(), Origin::code("built in code")).unwrap();
    // Defaults and name order apply as for a file.
    assert_eq!(sc.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["mini-2", "mini-10"]);
    assert_eq!(sc.replications, clustersim::model::validate::DEFAULT_REPLICATIONS);
    assert_eq!(sc.source, "built in code");

    // The same rules, the same message as from TOML, named by the field's key.
    let text = "[node_defaults]\nfailure = { dist = \"exponential\", mean = \"2000h\" }\nrepair = \"4h\"\n[[nodes]]\nname = \"mini-10\"\ncpu = 4\nmemory = \"8Gi\"\n[[nodes]]\nname = \"mini-2\"\ncpu = 4\nmemory = \"8Gi\"\n\
                [[apps]]\nname = \"plex\"\nclass = \"flexible\"\ncpu = 8\n";
    let from_file = clustersim::input::parse("s.toml", text).unwrap_err();
    spec.apps[0].cpu = Some(Located::new(Cpu(8000)));
    let in_code = Scenario::new(spec, Origin::code("built in code")).unwrap_err();
    assert_eq!(in_code.file, "built in code");
    assert_eq!(in_code.location, None, "no text, no line: {in_code}");
    assert_eq!(in_code.key, from_file.key, "{in_code} / {from_file}");
    assert!(in_code.key.as_deref().is_some_and(|k| k.starts_with("apps")), "the key names the app's field: {in_code}");
    assert_eq!(in_code.message, from_file.message);
    assert!(from_file.location.is_some(), "{from_file}");
}
