/* Peer for the tests: runs a cfg + weights on an image with Debian's libdarknet (pjreddie's
 * Darknet) and prints every (box, class) above the threshold after Darknet's NMS, as
 * "class prob x0 y0 x1 y1" with the box in image pixels (draw_detections' arithmetic).
 * Usage: darknet_detect CFG WEIGHTS IMAGE THRESH NMS */
#include <darknet.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s CFG WEIGHTS IMAGE THRESH NMS\n", argv[0]);
        return 2;
    }
    float thresh = atof(argv[4]), nms = atof(argv[5]);
    network *net = load_network(argv[1], argv[2], 0);
    set_batch_network(net, 1);
    image im = load_image_color(argv[3], 0, 0);
    image sized = letterbox_image(im, net->w, net->h);
    network_predict(net, sized.data);
    int count = 0;
    detection *dets = get_network_boxes(net, im.w, im.h, thresh, 0.5, 0, 1, &count);
    int classes = net->layers[net->n - 1].classes;
    do_nms_sort(dets, count, classes, nms);
    for (int i = 0; i < count; ++i) {
        for (int j = 0; j < classes; ++j) {
            if (dets[i].prob[j] <= thresh) continue;
            box b = dets[i].bbox;
            float x0 = (b.x - b.w / 2.) * im.w, x1 = (b.x + b.w / 2.) * im.w;
            float y0 = (b.y - b.h / 2.) * im.h, y1 = (b.y + b.h / 2.) * im.h;
            if (x0 < 0) x0 = 0;
            if (y0 < 0) y0 = 0;
            if (x1 > im.w - 1) x1 = im.w - 1;
            if (y1 > im.h - 1) y1 = im.h - 1;
            printf("%d %.6f %.2f %.2f %.2f %.2f\n", j, dets[i].prob[j], x0, y0, x1, y1);
        }
    }
    free_detections(dets, count);
    return 0;
}
