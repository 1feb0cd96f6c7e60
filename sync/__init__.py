"""dsprogress: the Data Science progress checklist, kept in Notion."""

__version__ = "0.1.0"
