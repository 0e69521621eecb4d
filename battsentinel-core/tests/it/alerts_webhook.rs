//! Webhook delivery against a real HTTP receiver on loopback: payload, signature, retries, permanent failures.
#![cfg(feature = "webhook")]

use battsentinel_core::alerts::{
    evaluate, webhook_signature, AlertEvent, EngineParams, Outbox, RuleSet, WebhookParams, WebhookSink,
};
use battsentinel_core::{BatteryLog, Channel};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;

/// One received request: headers (lower-cased names) and body.
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Serves one request per entry of `statuses` on a loopback port, answering with that status.
fn receiver(statuses: Vec<u16>) -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/battery", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for status in statuses {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (n, v) = line.split_once(':').unwrap();
                headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
            let len: usize =
                headers.iter().find(|(n, _)| n == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let mut stream = stream;
            write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
            stream.flush().unwrap();
            tx.send(Received { request_line: request_line.trim_end().to_string(), headers, body }).unwrap();
        }
    });
    (url, rx)
}

fn hot_events() -> Vec<AlertEvent> {
    let rules = RuleSet::from_toml_str(
        r#"
[[rule]]
id = "hot"
severity = "critical"
when = { above = { signal = "temperature_c:*", across = "max", threshold = 60, clear = 55 } }
"#,
    )
    .unwrap();
    let mut log = BatteryLog::with_time(vec![0.0, 1.0, 2.0, 3.0]);
    log.temperatures_c.push(Channel::new("TC1", "°C", vec![25.0, 61.0, 62.0, 40.0]));
    evaluate(&rules, &log, EngineParams::default()).unwrap()
}

#[test]
fn events_arrive_signed_and_in_order() {
    let events = hot_events();
    assert_eq!(events.len(), 2, "raised then cleared");
    let (url, rx) = receiver(vec![200, 204]);
    let mut sink = WebhookSink::new(WebhookParams::new(&url).secret("s3cret").timeout_s(5.0)).unwrap();
    let mut outbox = Outbox::new(3, 1.0);
    outbox.enqueue(events.clone());
    assert_eq!(outbox.flush(0.0, &mut sink), 2);
    assert_eq!(outbox.pending(), 0);
    for (sent, kind) in events.iter().zip(["raised", "cleared"]) {
        let got = rx.recv().unwrap();
        assert_eq!(got.request_line, "POST /hooks/battery HTTP/1.1");
        assert_eq!(got.header("content-type"), Some("application/json"));
        assert_eq!(got.header("x-battsentinel-event"), Some(kind));
        assert_eq!(got.header("x-battsentinel-alert-id"), Some("1"));
        let sig = webhook_signature("s3cret", &got.body);
        assert_eq!(got.header("x-battsentinel-signature"), Some(sig.as_str()));
        let decoded: AlertEvent = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(&decoded, sent);
    }
    assert!(outbox.records().iter().all(|r| r.error.is_none()));
}

#[test]
fn server_errors_are_retried_then_delivered() {
    let events = hot_events();
    let (url, rx) = receiver(vec![503, 500, 200, 200]);
    let mut sink = WebhookSink::new(WebhookParams::new(&url)).unwrap();
    let mut outbox = Outbox::new(5, 1.0);
    outbox.enqueue(events);
    assert_eq!(outbox.flush(0.0, &mut sink), 0, "503: back off 1 s");
    assert_eq!(outbox.flush(0.5, &mut sink), 0, "not due yet");
    assert_eq!(outbox.flush(1.0, &mut sink), 0, "500: back off 2 s");
    assert_eq!(outbox.flush(3.0, &mut sink), 2, "delivered, order kept");
    let attempts: Vec<(u32, bool)> =
        outbox.records().iter().map(|r| (r.attempt, r.error.is_some())).collect();
    assert_eq!(attempts, vec![(1, true), (2, true), (3, false), (1, false)]);
    assert!(outbox.records()[0].error.as_deref().unwrap().contains("HTTP 503"));
    assert!(outbox.failed().is_empty());
    assert_eq!(rx.iter().take(4).count(), 4);
    assert!(sink.params().url().ends_with("/hooks/battery"));
}

#[test]
fn client_errors_fail_for_good_and_are_kept() {
    let events = hot_events();
    let (url, _rx) = receiver(vec![410, 200]);
    let mut sink = WebhookSink::new(WebhookParams::new(&url)).unwrap();
    let mut outbox = Outbox::new(5, 1.0);
    outbox.enqueue(events.clone());
    assert_eq!(outbox.flush(0.0, &mut sink), 1, "the 410 is final, the next event goes through");
    assert_eq!(outbox.failed(), &events[..1]);
    assert!(!outbox.records()[0].error.as_deref().unwrap().is_empty());
}

#[test]
fn unreachable_receiver_is_retryable() {
    // Bind then drop: nothing listens on the port any more.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut sink =
        WebhookSink::new(WebhookParams::new(format!("http://127.0.0.1:{port}/x")).timeout_s(2.0)).unwrap();
    let mut outbox = Outbox::new(2, 1.0);
    outbox.enqueue(hot_events());
    assert_eq!(outbox.flush(0.0, &mut sink), 0);
    assert_eq!(outbox.pending(), 2, "kept for a retry");
    assert_eq!(outbox.flush(1.0, &mut sink), 0);
    assert_eq!(outbox.failed().len(), 1, "attempts exhausted: recorded as failed, not lost");
}
