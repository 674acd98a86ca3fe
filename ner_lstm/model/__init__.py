"""The model: vocabularies and features, the Keras network, the CRF, batches of ids."""
