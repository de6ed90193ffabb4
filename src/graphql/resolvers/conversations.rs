//! Conversations, groups and read markers.

use async_graphql::{Context, ID, InputObject, Object};

use crate::graphql::types::{Conversation, ConversationConnection, MemberRole};
use crate::graphql::{context, cursor};

#[derive(InputObject)]
pub struct CreateGroupInput {
    pub title: String,
    pub member_ids: Vec<ID>,
}

#[derive(Default)]
pub struct ConversationQuery;

#[Object]
impl ConversationQuery {
    /// The viewer's conversations, most recently active first.
    #[graphql(complexity = "first.unwrap_or(30).clamp(0, 100) as usize * child_complexity")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 30)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ConversationConnection> {
        let viewer = context::viewer(ctx).await?;
        let after = after
            .as_deref()
            .map(|cursor| cursor::decode_conversation(cursor, "after"))
            .transpose()?;
        let has_after = after.is_some();
        let page = context::services(ctx)?
            .conversations
            .list(viewer, first.unwrap_or(30), after)
            .await?;
        Ok(ConversationConnection::new(
            page.items,
            page.has_more,
            has_after,
        ))
    }

    async fn conversation(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Conversation>> {
        let viewer = context::viewer(ctx).await?;
        let conversation = context::services(ctx)?
            .conversations
            .conversation(viewer, &id)
            .await?;
        Ok(conversation.map(Conversation))
    }
}

#[derive(Default)]
pub struct ConversationMutation;

#[Object]
impl ConversationMutation {
    /// Returns the one direct conversation with a friend, creating it on first use.
    async fn open_direct_conversation(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
    ) -> async_graphql::Result<Conversation> {
        let viewer = context::viewer(ctx).await?;
        let conversation = context::services(ctx)?
            .conversations
            .open_direct(viewer, &user_id)
            .await?;
        Ok(Conversation(conversation))
    }

    async fn create_group(
        &self,
        ctx: &Context<'_>,
        input: CreateGroupInput,
    ) -> async_graphql::Result<Conversation> {
        let viewer = context::viewer(ctx).await?;
        let member_ids: Vec<String> = input.member_ids.into_iter().map(|id| id.0).collect();
        let conversation = context::services(ctx)?
            .conversations
            .create_group(viewer, &input.title, &member_ids)
            .await?;
        Ok(Conversation(conversation))
    }

    async fn rename_group(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        title: String,
    ) -> async_graphql::Result<Conversation> {
        let viewer = context::viewer(ctx).await?;
        let conversation = context::services(ctx)?
            .conversations
            .rename(viewer, &conversation_id, &title)
            .await?;
        Ok(Conversation(conversation))
    }

    async fn add_group_members(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        user_ids: Vec<ID>,
    ) -> async_graphql::Result<Conversation> {
        let viewer = context::viewer(ctx).await?;
        let user_ids: Vec<String> = user_ids.into_iter().map(|id| id.0).collect();
        let (conversation, _added) = context::services(ctx)?
            .conversations
            .add_members(viewer, &conversation_id, &user_ids)
            .await?;
        Ok(Conversation(conversation))
    }

    async fn remove_group_member(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        user_id: ID,
    ) -> async_graphql::Result<Conversation> {
        let viewer = context::viewer(ctx).await?;
        let conversation = context::services(ctx)?
            .conversations
            .remove_member(viewer, &conversation_id, &user_id)
            .await?;
        Ok(Conversation(conversation))
    }

    async fn set_member_role(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        user_id: ID,
        role: MemberRole,
    ) -> async_graphql::Result<Conversation> {
        let viewer = context::viewer(ctx).await?;
        let conversation = context::services(ctx)?
            .conversations
            .set_role(viewer, &conversation_id, &user_id, role.into())
            .await?;
        Ok(Conversation(conversation))
    }

    async fn leave_group(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        context::services(ctx)?
            .conversations
            .leave(viewer, &conversation_id)
            .await?;
        Ok(true)
    }

    /// Moves the viewer's read marker forward (never backward).
    async fn mark_read(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        seq: i64,
    ) -> async_graphql::Result<Conversation> {
        let viewer = context::viewer(ctx).await?;
        let conversation = context::services(ctx)?
            .conversations
            .mark_read(viewer, &conversation_id, seq)
            .await?;
        Ok(Conversation(conversation))
    }
}
