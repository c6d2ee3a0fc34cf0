"""Times OpenCV DNN's forward pass of a Darknet cfg + weights on a given input blob (.npy):
prints the median of RUNS passes in milliseconds. Usage: opencv_time.py CFG WEIGHTS BLOB.npy RUNS"""
import sys
import time

import cv2
import numpy as np

cfg, weights, blob_path, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
net = cv2.dnn.readNetFromDarknet(cfg, weights)
net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
outputs = net.getUnconnectedOutLayersNames()
blob = np.load(blob_path)
net.setInput(blob)
net.forward(outputs)  # warm-up: allocation and layer fusion
times = []
for _ in range(runs):
    start = time.perf_counter()
    net.setInput(blob)
    net.forward(outputs)
    times.append(time.perf_counter() - start)
print(f"{sorted(times)[runs // 2] * 1e3:.2f} {cv2.getNumThreads()}")
