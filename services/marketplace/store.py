"""The marketplace's SQL. Every function takes an open transaction; ids arrive parsed."""
from services.marketplace import domain

# --- catalogue ---

BUSINESS_COLUMNS = ("id, owner_account_id, name, kind, sector, kecamatan, status, export_ready, "
                    "export_ready_badge, version")


# --- the read model of businesses ---

def save_business(tx, snapshot, version):
    """The business as its newest fact describes it (every field, never a change)."""
    tx.execute(
        """INSERT INTO businesses (id, owner_account_id, name, kind, sector, kecamatan, status,
                                   export_ready, export_ready_badge, version)
           VALUES (%(business_id)s, %(owner_account_id)s, %(name)s, %(kind)s, %(sector)s,
                   %(kecamatan)s, %(status)s, %(export_ready)s, %(export_ready_badge)s,
                   %(version)s)
           ON CONFLICT (id) DO UPDATE SET
               owner_account_id = EXCLUDED.owner_account_id, name = EXCLUDED.name,
               kind = EXCLUDED.kind, sector = EXCLUDED.sector, kecamatan = EXCLUDED.kecamatan,
               status = EXCLUDED.status, export_ready = EXCLUDED.export_ready,
               export_ready_badge = EXCLUDED.export_ready_badge, version = EXCLUDED.version,
               updated_at = now()""",
        snapshot | {"version": version,
                    "export_ready_badge": domain.export_ready_badge(snapshot["export_ready"])})


def business_by_id(tx, business_id):
    return tx.one(f"SELECT {BUSINESS_COLUMNS} FROM businesses WHERE id = %s", (business_id,))


def forget_businesses(tx, handler):
    """Empties the read model and the versions its handler applied, for a rebuild."""
    tx.execute("DELETE FROM businesses")
    tx.execute("DELETE FROM aggregate_versions WHERE handler = %s", (handler,))

# --- orders ---
