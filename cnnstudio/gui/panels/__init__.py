"""The Data, Training, Runs and Export sections: views over cnnstudio.data, .training and .export.

Nothing here trains, scans or exports by itself: panels call the engines (in thread workers
for numpy/Pillow work, in child processes for anything that needs TensorFlow).
"""
