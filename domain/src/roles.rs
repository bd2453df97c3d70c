//! Account roles: user, agent, admin (and guests of the support desk,
//! who have no account to sign in with). Roles are read from the store on
//! every call that needs one, so a change applies at once to every session;
//! the user's open sockets are told ([`ServerFrame::RoleChanged`]) and
//! subscribed to, or cut from, the desk channel right away.

use teahouse_protocol::{ErrorCode, ServerFrame, UserBrief, UserId, UserRole, UserWithRole};

use crate::desk::DESK_CHANNEL;
use crate::publish::Signal;
use crate::{hub, Chat, DomainError, Result};

/// Most accounts one admin-page search answers with.
pub const ACCOUNTS_PAGE: u32 = 100;

impl Chat {
    /// The role of `user` now (`unauthenticated` if the account is gone).
    pub async fn role_of(&self, user: UserId) -> Result<UserRole> {
        self.store
            .role(user)
            .await?
            .ok_or_else(|| DomainError::code(ErrorCode::Unauthenticated))
    }

    /// `admin_only` unless `user` is an admin now.
    pub async fn require_admin(&self, user: &UserBrief) -> Result<()> {
        match self.role_of(user.id).await? {
            UserRole::Admin => Ok(()),
            _ => Err(DomainError::code(ErrorCode::AdminOnly)),
        }
    }

    /// `staff_only` unless `user` is an agent or admin now; their role.
    pub async fn require_staff(&self, user: &UserBrief) -> Result<UserRole> {
        match self.role_of(user.id).await? {
            r if r.is_staff() => Ok(r),
            _ => Err(DomainError::code(ErrorCode::StaffOnly)),
        }
    }

    /// `user` and their role.
    pub async fn my_role(&self, user: &UserBrief) -> Result<UserWithRole> {
        Ok(UserWithRole {
            user: user.clone(),
            role: self.role_of(user.id).await?,
        })
    }

    /// Accounts for the admin page (admins only): username or nickname
    /// containing `query`, staff first.
    pub async fn accounts_with_roles(
        &self,
        admin: &UserBrief,
        query: &str,
    ) -> Result<Vec<UserWithRole>> {
        self.require_admin(admin).await?;
        let query = crate::validate::room_query(query)?;
        self.store.accounts_with_roles(&query, ACCOUNTS_PAGE).await
    }

    /// An admin sets `user`'s role (`user`, `agent` or `admin`; anything
    /// else is `role_invalid`). It applies at once: every later call is
    /// checked against it, the user's sockets are told, join or leave the
    /// desk channel, and an agent who is no longer one hands their
    /// conversations back to the queue.
    pub async fn set_role(
        &self,
        admin: &UserBrief,
        user: UserId,
        role: &str,
    ) -> Result<UserWithRole> {
        self.require_admin(admin).await?;
        let role = UserRole::parse(role)
            .filter(|r| *r != UserRole::Guest)
            .ok_or_else(|| DomainError::field(ErrorCode::RoleInvalid, "role"))?;
        let target = self.store.set_role(user, role).await?;
        self.role_applied(&target, role).await?;
        Ok(UserWithRole { user: target, role })
    }

    /// The operator's way in (`teahouse grant-role`): sets the role of the
    /// account named `username` with no admin check, e.g. to make the first
    /// admin.
    pub async fn grant_role_by_name(&self, username: &str, role: UserRole) -> Result<UserBrief> {
        if role == UserRole::Guest {
            return Err(DomainError::field(ErrorCode::RoleInvalid, "role"));
        }
        let user = self
            .store
            .user_named(username)
            .await?
            .ok_or_else(|| DomainError::field(ErrorCode::NotFound, "username"))?;
        let user = self.store.set_role(user.id, role).await?;
        self.role_applied(&user, role).await?;
        Ok(user)
    }

    /// Applies a stored role change to live connections and the desk.
    async fn role_applied(&self, user: &UserBrief, role: UserRole) -> Result<()> {
        self.publisher.signal(if role.is_staff() {
            Signal::Joined {
                user: user.id,
                conversation: DESK_CHANNEL,
            }
        } else {
            Signal::Left {
                user: user.id,
                conversation: DESK_CHANNEL,
            }
        });
        self.publisher.signal(Signal::ToUser {
            user: user.id,
            frame: hub::encode(&ServerFrame::RoleChanged { role }),
        });
        self.desk.role_changed(user.id, role);
        if role != UserRole::Agent && role != UserRole::Admin {
            self.return_conversations(user, "role_revoked").await?;
        }
        Ok(())
    }
}
