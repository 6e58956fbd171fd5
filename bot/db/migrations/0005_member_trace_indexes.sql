-- Schema v5: /privacy export and /privacy forget look up everything one member edited, removed
-- or linked. Without these indexes each lookup read the whole picks or pick_links table (a
-- second or more at a million picks, inside the write lock for forget). Partial, so picks
-- nobody edited or removed cost nothing.

CREATE INDEX picks_by_editor ON picks (edited_by) WHERE edited_by IS NOT NULL;
CREATE INDEX picks_by_remover ON picks (deleted_by) WHERE deleted_by IS NOT NULL;
CREATE INDEX pick_links_by_creator ON pick_links (created_by) WHERE created_by IS NOT NULL;
