-- Which of a customer's audit readers see an event, decided when it is written (the event shows
-- what its target was and became, so it is as hidden as the target):
--   NULL        about untagged data: every reader of the customer's log;
--   '{}'        only readers who see every group (the target is a person in no group, an
--               invitation without groups, or something whose groups are unknown);
--   {g1, g2..}  readers who see every one of these groups.
-- A reader limited to groups G sees: visible_groups IS NULL OR
-- (cardinality(visible_groups) > 0 AND visible_groups <@ G).
ALTER TABLE audit_events ADD COLUMN visible_groups uuid[];

-- Existing events get the visibility of their target as it is now, joined with whatever the
-- event itself moved the target from or to. The log is append-only; this one backfill is the
-- exception, so the trigger is off only inside this transaction.
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;

-- The join of two visibilities: '{}' wins, NULL gives way, groups add up.
CREATE FUNCTION pg_temp.visibility_join(a uuid[], b uuid[]) RETURNS uuid[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN cardinality(a) = 0 OR cardinality(b) = 0 THEN '{}'::uuid[]
        WHEN a IS NULL THEN b
        WHEN b IS NULL THEN a
        ELSE ARRAY(SELECT DISTINCT g FROM unnest(a || b) AS g ORDER BY g)
    END
$$;

-- A tag as a visibility: untagged (NULL) is everyone's.
CREATE FUNCTION pg_temp.tag_visibility(tag text) RETURNS uuid[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN tag IS NULL THEN NULL ELSE ARRAY[tag::uuid] END
$$;

-- A JSON list of group ids (a person's group_ids in `changes`) as a visibility: no list says
-- nothing (NULL), an empty one is a person in no group ('{}').
CREATE FUNCTION pg_temp.groups_visibility(ids jsonb) RETURNS uuid[] LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(ids) = 'array'
        THEN ARRAY(SELECT DISTINCT g::uuid FROM jsonb_array_elements_text(ids) AS g ORDER BY 1)
        ELSE NULL
    END
$$;

-- A person's current groups; a person in no group, or no longer there, is '{}'.
CREATE FUNCTION pg_temp.person_visibility(customer uuid, person uuid) RETURNS uuid[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT array_agg(m.group_id ORDER BY m.group_id) FROM group_members m
         WHERE m.customer_id = customer AND m.user_id = person),
        '{}'::uuid[])
$$;

UPDATE audit_events e
SET visible_groups = CASE
    WHEN a.id IS NULL THEN '{}'::uuid[]
    ELSE pg_temp.visibility_join(
        pg_temp.visibility_join(
            pg_temp.tag_visibility(a.group_id::text),
            pg_temp.tag_visibility(e.changes #>> '{group_id,from}')),
        pg_temp.tag_visibility(e.changes #>> '{group_id,to}'))
    END
FROM audit_events x
LEFT JOIN warehouse_addresses a ON a.customer_id = x.customer_id AND a.id = x.target_id
WHERE x.id = e.id AND e.target_type = 'warehouse_address';

UPDATE audit_events e
SET visible_groups = pg_temp.visibility_join(
    pg_temp.visibility_join(
        pg_temp.person_visibility(e.customer_id, e.target_id),
        pg_temp.groups_visibility(e.changes #> '{group_ids,from}')),
    pg_temp.groups_visibility(e.changes #> '{group_ids,to}'))
WHERE e.target_type = 'user';

UPDATE audit_events SET visible_groups = ARRAY[target_id] WHERE target_type = 'group';

UPDATE audit_events e
SET visible_groups = CASE
    WHEN i.id IS NULL THEN '{}'::uuid[]
    ELSE ARRAY(SELECT DISTINCT g FROM unnest(i.group_ids) AS g WHERE g IS NOT NULL ORDER BY g)
    END
FROM audit_events x
LEFT JOIN invitations i ON i.customer_id = x.customer_id AND i.id = x.target_id
WHERE x.id = e.id AND e.target_type = 'invitation';

-- Sign-up requests come from people who would be in no group.
UPDATE audit_events SET visible_groups = '{}' WHERE target_type = 'signup_request';

-- An ownership transfer is about the two people.
UPDATE audit_events e
SET visible_groups = pg_temp.visibility_join(
    CASE WHEN e.changes #>> '{owner,from}' IS NULL THEN NULL
        ELSE pg_temp.person_visibility(e.customer_id, (e.changes #>> '{owner,from}')::uuid) END,
    CASE WHEN e.changes #>> '{owner,to}' IS NULL THEN NULL
        ELSE pg_temp.person_visibility(e.customer_id, (e.changes #>> '{owner,to}')::uuid) END)
WHERE e.action = 'customer.owner_transferred';

DROP FUNCTION pg_temp.person_visibility(uuid, uuid);
DROP FUNCTION pg_temp.groups_visibility(jsonb);
DROP FUNCTION pg_temp.tag_visibility(text);
DROP FUNCTION pg_temp.visibility_join(uuid[], uuid[]);

ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
