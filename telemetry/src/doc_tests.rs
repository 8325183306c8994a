//! Keeps `docs/metrics.md` true: its metric table is the registry, its reason table lists every
//! reason, and its example batch gives exactly its example response.

use crate::{
    validate, Batch, IngestResponse, Limits, MetricKind, MetricSpec, Registry, RejectReason,
};

const DOC: &str = include_str!("../../docs/metrics.md");

/// The text between `<!-- {name}:begin -->` and `<!-- {name}:end -->`, trimmed.
fn section(name: &str) -> &'static str {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let start = DOC
        .find(&begin)
        .map(|i| i + begin.len())
        .expect("begin marker in docs/metrics.md");
    let len = DOC[start..]
        .find(&end)
        .expect("end marker in docs/metrics.md");
    DOC[start..start + len].trim()
}

/// The body of the one fenced block in a section.
fn code_block(name: &str) -> &'static str {
    let text = section(name);
    let body = text
        .split_once('\n')
        .map(|(_, rest)| rest)
        .expect("a fenced block");
    body.strip_suffix("```").expect("a closing fence").trim()
}

fn row(spec: &MetricSpec) -> String {
    let values = match (spec.kind, spec.min, spec.max) {
        (MetricKind::State(states), _, _) => states.join(", "),
        (_, Some(min), Some(max)) => format!("{min} to {max}"),
        (_, Some(min), None) => format!("≥ {min}"),
        (_, None, Some(max)) => format!("≤ {max}"),
        (_, None, None) => "any".to_owned(),
    };
    let labels = if spec.labels.is_empty() {
        "-".to_owned()
    } else {
        spec.labels.join(", ")
    };
    format!(
        "| `{}` | {} | {} | {} | {} | {} | {} |",
        spec.name,
        spec.kind.as_str(),
        spec.unit.as_str(),
        spec.instance.as_str(),
        labels,
        values,
        spec.help
    )
}

#[test]
fn the_metric_table_is_the_registry() {
    let mut expected = vec![
        "| metric | kind | unit | instance | labels | values | meaning |".to_owned(),
        "|---|---|---|---|---|---|---|".to_owned(),
    ];
    expected.extend(Registry::v1().specs().iter().map(row));
    let expected = expected.join("\n");
    assert!(
        section("registry") == expected,
        "docs/metrics.md's table should be:\n{expected}\n"
    );
}

#[test]
fn the_reason_table_lists_every_reason() -> Result<(), serde_json::Error> {
    let documented: Vec<&str> = section("reasons")
        .lines()
        .skip(2)
        .filter_map(|line| line.strip_prefix("| `")?.split('`').next())
        .collect();
    let mut names = Vec::new();
    for reason in RejectReason::ALL {
        names.push(
            serde_json::to_value(reason)?
                .as_str()
                .map(str::to_owned)
                .unwrap_or_default(),
        );
    }
    assert_eq!(documented, names);
    Ok(())
}

#[test]
fn the_example_batch_gives_the_example_response() -> Result<(), serde_json::Error> {
    let batch =
        Batch::from_json(code_block("example-batch").as_bytes()).expect("the example batch parses");
    let now = batch.sent_at;
    let validated = validate(batch, &Registry::v1(), now, &Limits::default())
        .expect("the example is a valid batch");
    let response = validated.response();
    let documented = serde_json::from_str::<serde_json::Value>(code_block("example-response"))
        .unwrap_or_default();
    let pretty = serde_json::to_string_pretty(&response)?;
    assert!(
        serde_json::to_value(&response)? == documented,
        "docs/metrics.md's example response should be:\n{pretty}\n"
    );
    assert_eq!(
        serde_json::from_value::<IngestResponse>(documented)?,
        response
    );
    Ok(())
}

#[test]
fn the_example_error_is_what_the_crate_answers() -> Result<(), serde_json::Error> {
    let documented: crate::ErrorResponse = serde_json::from_str(code_block("example-error"))?;
    let error = crate::BatchError::TooManySamples {
        count: 25_000,
        max: Limits::default().max_samples,
    };
    assert_eq!(error.to_response(), documented);
    Ok(())
}
