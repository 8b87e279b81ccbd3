use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::PublishError;
use crate::event::Event;
use crate::publisher::Publisher;

/// A publisher that records what it receives, and can be told to be down or to reject.
#[derive(Debug)]
pub struct RecordingPublisher {
    name: String,
    received: Mutex<Vec<Event>>,
    down: Mutex<bool>,
    rejects: Mutex<VecDeque<uuid::Uuid>>,
}

impl RecordingPublisher {
    /// A working publisher named `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            received: Mutex::new(Vec::new()),
            down: Mutex::new(false),
            rejects: Mutex::new(VecDeque::new()),
        }
    }
    /// Take the sink down (every publish fails transiently) or bring it back.
    pub fn set_down(&self, down: bool) {
        *self.down.lock().expect("poisoned") = down;
    }
    /// Reject (permanently) the event with this id whenever it is published.
    pub fn reject(&self, id: uuid::Uuid) {
        self.rejects.lock().expect("poisoned").push_back(id);
    }
    /// Stop rejecting anything.
    pub fn accept_all(&self) {
        self.rejects.lock().expect("poisoned").clear();
    }
    /// Everything received, in order.
    pub fn received(&self) -> Vec<Event> {
        self.received.lock().expect("poisoned").clone()
    }
}

#[async_trait]
impl Publisher for RecordingPublisher {
    fn name(&self) -> &str {
        &self.name
    }
    async fn publish(&self, event: &Event) -> Result<(), PublishError> {
        if *self.down.lock().expect("poisoned") {
            return Err(PublishError::transient(&self.name, "sink is down"));
        }
        if self.rejects.lock().expect("poisoned").contains(&event.id) {
            return Err(PublishError::rejected(&self.name, format!("event {} rejected", event.id)));
        }
        self.received.lock().expect("poisoned").push(event.clone());
        Ok(())
    }
}
