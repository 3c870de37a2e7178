use super::*;

fn node(title: &str, detail: &str, tx: Option<&str>, verdict: Verdict) -> Node {
    Node {
        title: title.into(),
        detail: detail.into(),
        tx_id: tx.map(str::to_owned),
        verdict,
    }
}

fn link(tx: &str) -> String {
    format!("https://gateway.example/{tx}")
}

#[test]
fn the_graph_has_one_box_per_node_arrows_between_and_linked_transactions() {
    let nodes = vec![
        node(
            "dataset",
            "iris@2bf3ace3",
            Some("IeM7z742KlAqpiChGZUfFaKjy3C8GvBvdHQxzk4g_n0"),
            Verdict::Verified,
        ),
        node(
            "training",
            "run 34cfba75",
            Some("UNsF4gVbk7S8oHGNy0ADgmMWLa98_ZwISaNj-8MqvBg"),
            Verdict::Verified,
        ),
        node(
            "registration",
            "iris/1 <from runs:/x/model>",
            Some("eWFN0E5hzD2rvbKzn5BSqUqJ1m1AkOwqCjkAI-autSw"),
            Verdict::Failed,
        ),
        node("alias", "alias champion", None, Verdict::NotAnchored),
        node("decisions", "2 of 3 verified", None, Verdict::Undetermined),
    ];
    let svg = svg(&nodes, &link);
    assert_eq!(svg.matches("<rect").count(), 5);
    assert_eq!(svg.matches("<line").count(), 4);
    assert_eq!(svg.matches("<a href=").count(), 3);
    assert!(!svg.contains("<script"));
    assert!(
        svg.contains("&lt;from runs:/x/model&gt;"),
        "text is escaped"
    );
    insta::assert_snapshot!(svg.replace('>', ">\n"));
}

#[test]
fn an_empty_lineage_says_so() {
    let svg = svg(&[], &link);
    assert!(svg.contains("Nothing anchored yet."));
    assert_eq!(svg.matches("<rect").count(), 0);
}

#[test]
fn a_folded_group_takes_its_worst_verdict() {
    let v = Verdict::Verified
        .worst(Verdict::Undetermined)
        .worst(Verdict::Verified);
    assert_eq!(v, Verdict::Undetermined);
    assert_eq!(v.worst(Verdict::Failed), Verdict::Failed);
    assert_eq!(Verdict::Failed.worst(Verdict::NotAnchored), Verdict::Failed);
}
