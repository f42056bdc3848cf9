import Foundation

/// The lab's Vaulthalla schema: the real table and column names (abridged to what recovery touches), split into
/// numbered migrations the way Vaulthalla ships them and pinned by sha256 in `schema_migrations`.
enum Schema {
    static let migrations: [(file: String, sql: String)] = [
        ("001_identity.sql", """
        CREATE TABLE users (
            id serial PRIMARY KEY, linux_uid int UNIQUE, name text NOT NULL UNIQUE, email text,
            password_hash text NOT NULL, is_active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(), last_login timestamptz);
        CREATE TABLE groups (
            id serial PRIMARY KEY, linux_gid int UNIQUE, name text NOT NULL UNIQUE, description text,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE group_members (
            group_id int NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
            user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            joined_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (group_id, user_id));
        CREATE TABLE refresh_tokens (
            jti uuid PRIMARY KEY, user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            token_hash text NOT NULL, ip_address text, user_agent text,
            expires_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), revoked boolean NOT NULL DEFAULT false);
        """),
        ("002_roles.sql", """
        CREATE TABLE permission (
            id serial PRIMARY KEY, bit_position int NOT NULL, name text NOT NULL, description text,
            category text NOT NULL, UNIQUE (category, bit_position));
        CREATE TABLE vault_role (
            id serial PRIMARY KEY, name text NOT NULL UNIQUE, description text, permissions bigint NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE admin_role (
            id serial PRIMARY KEY, name text NOT NULL UNIQUE, description text, permissions bigint NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE admin_role_assignments (
            user_id int PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            role_id int NOT NULL REFERENCES admin_role(id), assigned_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE user_global_vault_policy (
            user_id int PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            template_role_id int NOT NULL REFERENCES vault_role(id), enforce_template boolean NOT NULL DEFAULT false);
        """),
        ("003_secrets.sql", """
        CREATE TABLE internal_secrets (
            key text PRIMARY KEY, value bytea NOT NULL, iv bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE api_keys (
            id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users(id), name text NOT NULL, provider text NOT NULL,
            access_key text NOT NULL, encrypted_secret_access_key bytea NOT NULL, iv bytea NOT NULL,
            region text NOT NULL, endpoint text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
        """),
        ("004_vaults.sql", """
        CREATE TABLE vault (
            id serial PRIMARY KEY, type text NOT NULL CHECK (type IN ('local', 's3')), name text NOT NULL,
            description text, quota bigint, owner_id int NOT NULL REFERENCES users(id), mount_point char(33) NOT NULL UNIQUE,
            is_active boolean NOT NULL DEFAULT true, slug text, fuse_name text, deleted_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE s3 (
            vault_id int PRIMARY KEY REFERENCES vault(id) ON DELETE CASCADE, api_key_id int NOT NULL REFERENCES api_keys(id),
            bucket text NOT NULL, encrypt_upstream boolean NOT NULL DEFAULT true);
        CREATE TABLE vault_keys (
            vault_id int PRIMARY KEY REFERENCES vault(id) ON DELETE CASCADE, encrypted_key bytea NOT NULL, iv bytea NOT NULL,
            version int NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz,
            exported_at timestamptz, exported_version int);
        CREATE TABLE vault_keys_trashed (
            id serial PRIMARY KEY, vault_id int NOT NULL, version int NOT NULL, encrypted_key bytea NOT NULL,
            iv bytea NOT NULL, created_at timestamptz, trashed_at timestamptz NOT NULL DEFAULT now(),
            rotation_completed_at timestamptz, UNIQUE (vault_id, version));
        CREATE TABLE vault_deletion (
            vault_id int PRIMARY KEY, requested_by int REFERENCES users(id), requested_at timestamptz NOT NULL DEFAULT now(),
            purge_after timestamptz);
        CREATE TABLE vault_role_assignments (
            id serial PRIMARY KEY, vault_id int NOT NULL REFERENCES vault(id) ON DELETE CASCADE,
            subject_type text NOT NULL CHECK (subject_type IN ('user', 'group')), subject_id int NOT NULL,
            role_id int NOT NULL REFERENCES vault_role(id), assigned_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE vault_permission_overrides (
            id serial PRIMARY KEY, assignment_id int NOT NULL REFERENCES vault_role_assignments(id) ON DELETE CASCADE,
            permission_id int NOT NULL REFERENCES permission(id), pattern text NOT NULL,
            effect text NOT NULL CHECK (effect IN ('allow', 'deny')), enabled boolean NOT NULL DEFAULT true);
        """),
        ("005_fs.sql", """
        CREATE TABLE fs_entry (
            id bigserial PRIMARY KEY, vault_id int REFERENCES vault(id), parent_id bigint REFERENCES fs_entry(id),
            name text NOT NULL, base32_alias char(33) NOT NULL UNIQUE, path text NOT NULL, inode bigint,
            mode int NOT NULL DEFAULT 420, owner_uid int, group_gid int, is_hidden boolean NOT NULL DEFAULT false,
            is_system boolean NOT NULL DEFAULT false, created_by int, last_modified_by int,
            created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX fs_entry_parent_idx ON fs_entry(parent_id);
        CREATE UNIQUE INDEX fs_entry_vault_path_idx ON fs_entry(vault_id, path);
        CREATE TABLE files (
            fs_entry_id bigint PRIMARY KEY REFERENCES fs_entry(id) ON DELETE CASCADE, size_bytes bigint NOT NULL DEFAULT 0,
            mime_type text, content_hash text, encryption_iv text NOT NULL DEFAULT '',
            encrypted_with_key_version int, encryption_format smallint NOT NULL DEFAULT 1);
        CREATE TABLE directories (
            fs_entry_id bigint PRIMARY KEY REFERENCES fs_entry(id) ON DELETE CASCADE, size_bytes bigint NOT NULL DEFAULT 0,
            file_count bigint NOT NULL DEFAULT 0, subdirectory_count bigint NOT NULL DEFAULT 0,
            last_modified timestamptz NOT NULL DEFAULT now());
        CREATE TABLE symlinks (
            fs_entry_id bigint PRIMARY KEY REFERENCES fs_entry(id) ON DELETE CASCADE, target text NOT NULL);
        CREATE TABLE files_trashed (
            id bigserial PRIMARY KEY, vault_id int NOT NULL, fs_entry_id bigint, base32_alias char(33) NOT NULL,
            path text NOT NULL, backing_path text NOT NULL, size_bytes bigint NOT NULL, content_hash text,
            encryption_iv text, encrypted_with_key_version int, trashed_at timestamptz NOT NULL DEFAULT now(),
            trashed_by int, deleted_at timestamptz);
        CREATE TABLE cache_index (
            id bigserial PRIMARY KEY, vault_id int NOT NULL, file_id bigint, path text NOT NULL, type text NOT NULL,
            size bigint NOT NULL, last_accessed timestamptz NOT NULL DEFAULT now());
        """),
        ("006_sharing.sql", """
        CREATE TABLE share_link (
            id uuid PRIMARY KEY, vault_id int NOT NULL REFERENCES vault(id) ON DELETE CASCADE,
            root_entry_id bigint NOT NULL REFERENCES fs_entry(id) ON DELETE CASCADE, created_by int NOT NULL REFERENCES users(id),
            token_hash text NOT NULL, link_type text NOT NULL, access_mode text NOT NULL, allowed_ops int NOT NULL,
            expires_at timestamptz, max_downloads int, download_count int NOT NULL DEFAULT 0,
            revoked_at timestamptz, created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE share_session (
            id uuid PRIMARY KEY, share_id uuid NOT NULL REFERENCES share_link(id) ON DELETE CASCADE,
            session_token_hash text NOT NULL, email_hash text, verified_at timestamptz,
            expires_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE share_access_event (
            id bigserial PRIMARY KEY, share_id uuid NOT NULL REFERENCES share_link(id) ON DELETE CASCADE,
            session_id uuid, event_type text NOT NULL, path text, bytes_transferred bigint, status text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE share_vault_role_assignment (
            id serial PRIMARY KEY, share_id uuid NOT NULL REFERENCES share_link(id) ON DELETE CASCADE,
            vault_role_id int NOT NULL REFERENCES vault_role(id));
        """),
        ("007_sync.sql", """
        CREATE TABLE sync (
            id serial PRIMARY KEY, vault_id int NOT NULL UNIQUE REFERENCES vault(id) ON DELETE CASCADE,
            interval interval NOT NULL DEFAULT '15 minutes', enabled boolean NOT NULL DEFAULT true,
            last_sync_at timestamptz, last_success_at timestamptz, created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE fsync (sync_id int PRIMARY KEY REFERENCES sync(id) ON DELETE CASCADE, conflict_policy text NOT NULL);
        CREATE TABLE rsync (
            sync_id int PRIMARY KEY REFERENCES sync(id) ON DELETE CASCADE, strategy text NOT NULL,
            conflict_policy text NOT NULL, s3_budget_get_requests bigint, s3_budget_put_requests bigint,
            s3_budget_list_requests bigint, s3_budget_downloaded_bytes bigint, max_remote_index_age_seconds int);
        CREATE TABLE sync_event (
            id bigserial PRIMARY KEY, vault_id int NOT NULL, sync_id int, run_uuid uuid, status text NOT NULL,
            trigger text NOT NULL, started_at timestamptz NOT NULL, finished_at timestamptz, num_ops_total int,
            bytes_up bigint, bytes_down bigint, error_message text);
        CREATE TABLE s3_price_budget_policy (
            id serial PRIMARY KEY, scope text NOT NULL, vault_id int REFERENCES vault(id) ON DELETE CASCADE,
            mode text NOT NULL CHECK (mode IN ('off', 'report', 'warn', 'enforce')), currency text NOT NULL,
            max_run_cost numeric(12,4), max_daily_cost numeric(12,4), max_monthly_cost numeric(12,4),
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE s3_price_budget_ledger (
            id bigserial PRIMARY KEY, policy_id int NOT NULL REFERENCES s3_price_budget_policy(id) ON DELETE CASCADE,
            vault_id int, period_start date NOT NULL, requests_get bigint NOT NULL, requests_put bigint NOT NULL,
            bytes_downloaded bigint NOT NULL, estimated_cost numeric(12,4) NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE s3_price_budget_override (
            id serial PRIMARY KEY, policy_id int NOT NULL REFERENCES s3_price_budget_policy(id) ON DELETE CASCADE,
            granted_by int REFERENCES users(id), expires_at timestamptz NOT NULL, reason text);
        CREATE TABLE s3_price_budget_alert_state (
            policy_id int PRIMARY KEY REFERENCES s3_price_budget_policy(id) ON DELETE CASCADE,
            last_level text, last_alert_at timestamptz);
        CREATE TABLE operator_notification (
            id bigserial PRIMARY KEY, kind text NOT NULL, severity text NOT NULL, message text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(), acknowledged_at timestamptz);
        """),
        ("008_remote_index.sql", """
        CREATE TABLE remote_object_index (
            vault_id int NOT NULL REFERENCES vault(id) ON DELETE CASCADE, object_key text NOT NULL, size_bytes bigint NOT NULL,
            etag text, last_modified timestamptz, encrypted boolean NOT NULL, encryption_iv text,
            encrypted_with_key_version int, content_hash text, PRIMARY KEY (vault_id, object_key));
        CREATE TABLE remote_manifest_state (
            vault_id int PRIMARY KEY REFERENCES vault(id) ON DELETE CASCADE, generation bigint NOT NULL,
            object_count bigint NOT NULL, object_checksum text NOT NULL, generated_at timestamptz NOT NULL);
        CREATE TABLE audit_log (
            id bigserial PRIMARY KEY, user_id int, action text NOT NULL, target_type text, target_id text,
            details jsonb, ip_address text, created_at timestamptz NOT NULL DEFAULT now());
        CREATE SCHEMA vh;
        CREATE FUNCTION vh.alias_path(entry bigint) RETURNS text LANGUAGE sql STABLE AS $$
            WITH RECURSIVE up AS (
                SELECT id, parent_id, path, base32_alias::text AS alias, 0 AS depth FROM public.fs_entry WHERE id = entry
              UNION ALL
                SELECT p.id, p.parent_id, p.path, p.base32_alias::text, up.depth + 1
                FROM public.fs_entry p JOIN up ON p.id = up.parent_id WHERE up.path <> '/')
            SELECT string_agg(alias, '/' ORDER BY depth DESC) FROM up $$;
        """),
    ]

    /// `schema_migrations` itself, and the rows that pin every migration by its sha256.
    static let migrationTable = """
        CREATE TABLE schema_migrations (filename text PRIMARY KEY, sha256 text NOT NULL,
                                        applied_at timestamptz NOT NULL DEFAULT now());
        """
}
