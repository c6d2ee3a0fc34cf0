"""Times OpenCV DNN's forward pass of a Darknet cfg + weights on a given input blob (.npy):
prints the median of RUNS passes in milliseconds, OpenCV's thread count, and the median with
OpenCV's Winograd convolution (3x3, stride 1) turned off.
Usage: opencv_time.py CFG WEIGHTS BLOB.npy RUNS"""
import sys
import time

import cv2
import numpy as np

cfg, weights, blob_path, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
blob = np.load(blob_path)


def median_ms(winograd):
    net = cv2.dnn.readNetFromDarknet(cfg, weights)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.enableWinograd(winograd)
    outputs = net.getUnconnectedOutLayersNames()
    net.setInput(blob)
    net.forward(outputs)  # warm-up: allocation and layer fusion
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        net.setInput(blob)
        net.forward(outputs)
        times.append(time.perf_counter() - start)
    return sorted(times)[runs // 2] * 1e3


print(f"{median_ms(True):.2f} {cv2.getNumThreads()} {median_ms(False):.2f}")
