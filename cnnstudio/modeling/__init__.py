"""Graph <-> Keras. Imports TensorFlow/Keras: used in worker and helper processes."""
