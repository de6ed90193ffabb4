//! Conversations: direct ones between friends, and groups with roles.
//!
//! Authorization rule for everything here: a conversation the viewer is not
//! a member of behaves exactly like one that does not exist (NOT_FOUND).

use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use super::auth::Viewer;
use super::friends::FriendService;
use crate::bus::{Bus, BusEvent, NotificationKind};
use crate::error::{AppError, AppResult};
use crate::store::{
    ConversationCursor, ConversationKind, ConversationRecord, LeaveOutcome, MemberRecord,
    MemberRole, Store,
};

pub const MAX_GROUP_MEMBERS: usize = 1000;
pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_PAGE: usize = 100;

/// One page of a list, and whether more follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

pub struct ConversationService {
    store: Arc<dyn Store>,
    friends: Arc<FriendService>,
    bus: Arc<dyn Bus>,
}

impl ConversationService {
    pub fn new(store: Arc<dyn Store>, friends: Arc<FriendService>, bus: Arc<dyn Bus>) -> Self {
        ConversationService {
            store,
            friends,
            bus,
        }
    }

    /// Live streams of these users add (or drop) the conversation.
    async fn publish_membership(&self, conversation_id: &str, user_ids: &[String], joined: bool) {
        for user_id in user_ids {
            self.bus
                .publish(BusEvent::Membership {
                    conversation_id: conversation_id.to_owned(),
                    user_id: user_id.clone(),
                    joined,
                })
                .await;
        }
    }

    async fn notify(&self, conversation_id: &str, user_ids: &[String], kind: NotificationKind) {
        for user_id in user_ids {
            self.bus
                .publish(BusEvent::Notification {
                    recipient_id: user_id.clone(),
                    kind,
                    friend_request_id: None,
                    conversation_id: Some(conversation_id.to_owned()),
                    user_id: None,
                    at: Utc::now(),
                })
                .await;
        }
    }

    /// The ids of a conversation's members, longest-standing first.
    pub async fn member_ids(&self, conversation_id: &str) -> AppResult<Vec<String>> {
        let members = self
            .store
            .members_of(std::slice::from_ref(&conversation_id.to_owned()))
            .await?;
        Ok(members.into_iter().map(|member| member.user_id).collect())
    }

    /// GROUP_UPDATED to every current member.
    async fn notify_updated(&self, conversation_id: &str) -> AppResult<()> {
        let ids = self.member_ids(conversation_id).await?;
        self.notify(conversation_id, &ids, NotificationKind::GroupUpdated)
            .await;
        Ok(())
    }

    /// The viewer's membership of a conversation, or NOT_FOUND.
    pub async fn membership(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
    ) -> AppResult<(ConversationRecord, MemberRecord)> {
        let not_found = || AppError::not_found("conversation not found");
        let member = self
            .store
            .member(conversation_id, &viewer.user_id)
            .await?
            .ok_or_else(not_found)?;
        let conversation = self
            .store
            .conversation_by_id(conversation_id)
            .await?
            .ok_or_else(not_found)?;
        Ok((conversation, member))
    }

    /// A conversation the viewer is in; `None` otherwise.
    pub async fn conversation(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
    ) -> AppResult<Option<ConversationRecord>> {
        match self.membership(viewer, conversation_id).await {
            Ok((conversation, _)) => Ok(Some(conversation)),
            Err(error) if error.kind == crate::error::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The viewer's conversations, most recently active first.
    pub async fn list(
        &self,
        viewer: &Viewer,
        first: i32,
        after: Option<ConversationCursor>,
    ) -> AppResult<Page<ConversationRecord>> {
        let limit = page_size(first, "first")?;
        let mut items = self
            .store
            .conversations_of_user(&viewer.user_id, after, limit + 1)
            .await?;
        let has_more = items.len() > limit;
        items.truncate(limit);
        Ok(Page { items, has_more })
    }

    /// The one direct conversation with a friend, created on first use.
    pub async fn open_direct(
        &self,
        viewer: &Viewer,
        user_id: &str,
    ) -> AppResult<ConversationRecord> {
        if user_id == viewer.user_id {
            return Err(AppError::bad_input("userId", "that is you"));
        }
        if self.store.user_by_id(user_id).await?.is_none() {
            return Err(AppError::not_found("user not found"));
        }
        if !self.friends.are_friends(&viewer.user_id, user_id).await? {
            return Err(AppError::forbidden("you can only message your friends"));
        }
        let conversation = self
            .store
            .open_direct_conversation(
                &Uuid::now_v7().to_string(),
                &viewer.user_id,
                user_id,
                Utc::now(),
            )
            .await?;
        let both = [viewer.user_id.clone(), user_id.to_owned()];
        self.publish_membership(&conversation.id, &both, true).await;
        Ok(conversation)
    }

    /// A group of the viewer (OWNER) and some of their friends.
    pub async fn create_group(
        &self,
        viewer: &Viewer,
        title: &str,
        member_ids: &[String],
    ) -> AppResult<ConversationRecord> {
        let title = group_title(title)?;
        let mut members: Vec<String> = Vec::new();
        for id in member_ids {
            if id != &viewer.user_id && !members.contains(id) {
                members.push(id.clone());
            }
        }
        if members.len() + 1 > MAX_GROUP_MEMBERS {
            return Err(AppError::bad_input(
                "memberIds",
                format!("a group has at most {MAX_GROUP_MEMBERS} members"),
            ));
        }
        self.require_friends(viewer, &members, "memberIds").await?;
        let now = Utc::now();
        let mut roles = vec![(viewer.user_id.clone(), MemberRole::Owner)];
        roles.extend(members.iter().cloned().map(|id| (id, MemberRole::Member)));
        let group = self
            .store
            .create_group(
                ConversationRecord {
                    id: Uuid::now_v7().to_string(),
                    kind: ConversationKind::Group,
                    title: Some(title),
                    created_at: now,
                    last_seq: 0,
                    last_activity_at: now,
                    last_message_id: None,
                    encrypted_at: None,
                },
                roles,
            )
            .await?;
        let mut everyone = members.clone();
        everyone.push(viewer.user_id.clone());
        self.publish_membership(&group.id, &everyone, true).await;
        self.notify(&group.id, &members, NotificationKind::AddedToGroup)
            .await;
        Ok(group)
    }

    /// ADMIN or OWNER.
    pub async fn rename(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
        title: &str,
    ) -> AppResult<ConversationRecord> {
        let (_, me) = self.group_membership(viewer, conversation_id).await?;
        require_role(&me, MemberRole::Admin, "only admins can rename a group")?;
        let title = group_title(title)?;
        let renamed = self
            .store
            .rename_group(conversation_id, &title)
            .await?
            .ok_or_else(|| AppError::not_found("conversation not found"))?;
        self.notify_updated(conversation_id).await?;
        Ok(renamed)
    }

    /// ADMIN or OWNER; new members must be the adder's friends.
    pub async fn add_members(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
        user_ids: &[String],
    ) -> AppResult<(ConversationRecord, Vec<String>)> {
        let (conversation, me) = self.group_membership(viewer, conversation_id).await?;
        require_role(&me, MemberRole::Admin, "only admins can add members")?;
        let candidates: Vec<String> = user_ids
            .iter()
            .filter(|id| *id != &viewer.user_id)
            .cloned()
            .collect();
        if candidates.is_empty() {
            return Err(AppError::bad_input(
                "userIds",
                "name at least one friend to add",
            ));
        }
        let current = self
            .store
            .members_of(std::slice::from_ref(&conversation.id))
            .await?;
        let newcomers: Vec<String> = candidates
            .into_iter()
            .filter(|id| !current.iter().any(|member| &member.user_id == id))
            .collect();
        self.require_friends(viewer, &newcomers, "userIds").await?;
        let added = self
            .store
            .add_members(conversation_id, &newcomers, MAX_GROUP_MEMBERS, Utc::now())
            .await?;
        self.publish_membership(conversation_id, &added, true).await;
        self.notify(conversation_id, &added, NotificationKind::AddedToGroup)
            .await;
        Ok((conversation, added))
    }

    /// OWNER removes anyone; ADMIN removes MEMBERs.
    pub async fn remove_member(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
        user_id: &str,
    ) -> AppResult<ConversationRecord> {
        let (conversation, me) = self.group_membership(viewer, conversation_id).await?;
        if user_id == viewer.user_id {
            return Err(AppError::bad_input("userId", "use leaveGroup to leave"));
        }
        let target = self
            .store
            .member(conversation_id, user_id)
            .await?
            .ok_or_else(|| AppError::not_found("member not found"))?;
        let allowed = match me.role {
            MemberRole::Owner => true,
            MemberRole::Admin => target.role == MemberRole::Member,
            MemberRole::Member => false,
        };
        if !allowed {
            return Err(AppError::forbidden(
                "owners remove anyone; admins remove members only",
            ));
        }
        self.store.remove_member(conversation_id, user_id).await?;
        let removed = [user_id.to_owned()];
        self.publish_membership(conversation_id, &removed, false)
            .await;
        self.notify(
            conversation_id,
            &removed,
            NotificationKind::RemovedFromGroup,
        )
        .await;
        Ok(conversation)
    }

    /// OWNER only. Making someone OWNER hands ownership over.
    pub async fn set_role(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
        user_id: &str,
        role: MemberRole,
    ) -> AppResult<ConversationRecord> {
        let (conversation, me) = self.group_membership(viewer, conversation_id).await?;
        require_role(&me, MemberRole::Owner, "only the owner can change roles")?;
        if user_id == viewer.user_id {
            return Err(AppError::bad_input(
                "userId",
                "make someone else OWNER to hand ownership over",
            ));
        }
        self.store
            .member(conversation_id, user_id)
            .await?
            .ok_or_else(|| AppError::not_found("member not found"))?;
        if role == MemberRole::Owner {
            self.store
                .transfer_ownership(conversation_id, &viewer.user_id, user_id)
                .await?;
        } else {
            self.store
                .set_member_role(conversation_id, user_id, role)
                .await?;
        }
        self.notify_updated(conversation_id).await?;
        Ok(conversation)
    }

    /// Leaves a group; the last one out deletes it.
    pub async fn leave(&self, viewer: &Viewer, conversation_id: &str) -> AppResult<LeaveOutcome> {
        self.group_membership(viewer, conversation_id).await?;
        let outcome = self
            .store
            .leave_group(conversation_id, &viewer.user_id)
            .await?;
        if outcome == LeaveOutcome::NotMember {
            return Err(AppError::not_found("conversation not found"));
        }
        self.publish_membership(
            conversation_id,
            std::slice::from_ref(&viewer.user_id),
            false,
        )
        .await;
        if outcome != LeaveOutcome::Deleted {
            self.notify_updated(conversation_id).await?;
        }
        Ok(outcome)
    }

    /// Moves the viewer's read marker forward.
    pub async fn mark_read(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
        seq: i64,
    ) -> AppResult<ConversationRecord> {
        if seq < 0 {
            return Err(AppError::bad_input("seq", "seq must not be negative"));
        }
        let (conversation, before) = self.membership(viewer, conversation_id).await?;
        let after = self
            .store
            .mark_read(conversation_id, &viewer.user_id, seq)
            .await?
            .ok_or_else(|| AppError::not_found("conversation not found"))?;
        if after.last_read_seq > before.last_read_seq {
            self.bus
                .publish(BusEvent::ReadMarker {
                    conversation_id: conversation.id.clone(),
                    user_id: viewer.user_id.clone(),
                    last_read_seq: after.last_read_seq,
                })
                .await;
        }
        Ok(conversation)
    }

    /// Membership of a *group*; a direct conversation is BAD_USER_INPUT.
    async fn group_membership(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
    ) -> AppResult<(ConversationRecord, MemberRecord)> {
        let (conversation, member) = self.membership(viewer, conversation_id).await?;
        if conversation.kind != ConversationKind::Group {
            return Err(AppError::bad_input(
                "conversationId",
                "this is a direct conversation, not a group",
            ));
        }
        Ok((conversation, member))
    }

    async fn require_friends(
        &self,
        viewer: &Viewer,
        user_ids: &[String],
        field: &'static str,
    ) -> AppResult<()> {
        if user_ids.is_empty() {
            return Ok(());
        }
        let friends = self.store.friend_ids(&viewer.user_id).await?;
        if let Some(stranger) = user_ids.iter().find(|id| !friends.contains(id)) {
            return Err(AppError::bad_input(
                field,
                format!("{stranger} is not your friend; only friends can be added"),
            ));
        }
        Ok(())
    }
}

/// At least `needed`: OWNER ≥ ADMIN ≥ MEMBER.
fn require_role(member: &MemberRecord, needed: MemberRole, message: &str) -> AppResult<()> {
    if member.role <= needed {
        Ok(())
    } else {
        Err(AppError::forbidden(message))
    }
}

fn group_title(raw: &str) -> AppResult<String> {
    let title = raw.trim();
    let length = title.chars().count();
    if length == 0 || length > MAX_TITLE_CHARS {
        return Err(AppError::bad_input(
            "title",
            format!("title must be 1–{MAX_TITLE_CHARS} characters"),
        ));
    }
    Ok(title.to_owned())
}

/// A page size argument, 1–100.
pub fn page_size(requested: i32, field: &'static str) -> AppResult<usize> {
    usize::try_from(requested)
        .ok()
        .filter(|size| (1..=MAX_PAGE).contains(size))
        .ok_or_else(|| AppError::bad_input(field, format!("{field} must be 1–{MAX_PAGE}")))
}
