//! Behaviour and rules. Services own authorization and validation; they know
//! nothing of GraphQL or HTTP and talk to storage only through `store::Store`.

pub mod account;
pub mod auth;
pub mod conversations;
pub mod encryption;
pub mod friends;
pub mod hash_pool;
pub mod live;
pub mod login_throttle;
pub mod media;
pub mod messages;
pub mod password;
pub mod presence;
pub mod rate_limit;
pub mod session_cache;
pub mod tokens;
pub mod users;
pub mod validation;

use std::sync::Arc;

use crate::bus::Bus;
use crate::store::Store;

pub use auth::{AuthService, AuthSession, Registration, Viewer};
pub use conversations::ConversationService;
pub use friends::FriendService;
pub use messages::MessageService;
pub use users::UserService;

/// Every service, built once at start and shared by all requests.
pub struct Services {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub auth: AuthService,
    pub accounts: Arc<account::AccountService>,
    pub users: UserService,
    pub friends: Arc<FriendService>,
    pub conversations: Arc<ConversationService>,
    pub messages: MessageService,
    pub encryption: Arc<encryption::EncryptionService>,
    pub media: Arc<media::MediaService>,
    pub live: live::LiveService,
    pub presence: Arc<presence::PresenceService>,
    pub rate_limits: Arc<rate_limit::RateLimits>,
    pub login_throttle: Arc<login_throttle::LoginThrottle>,
}

impl Services {
    /// Forgets idle rate-limit and throttle state; called periodically.
    pub fn prune_limits(&self) {
        self.rate_limits.prune();
        self.login_throttle.prune();
    }
}
