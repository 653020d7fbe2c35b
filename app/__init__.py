"""Front ends: the `kura` CLI and the Streamlit app, both thin over the same services.

Importing the package turns on offline mode before any model library is loaded."""

from app.offline import enforce_offline

enforce_offline()
