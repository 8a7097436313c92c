"""The model derived from the source: an interpreter of the parsed function over abstract state.

``run.derived_outcome(read, tag, scenario, config)`` parses the function at the tag and runs it;
kernel helpers mean what ``analyzers/model/helpers.toml`` says (``table``); the tag's header facts
come through ``facts``.
"""
