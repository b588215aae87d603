; SPDX-License-Identifier: GPL-2.0-or-later
;
; Screen disk: a raw hard-disk image whose boot sector paints a known
; picture on the VGA text screen (mode 3, as the VGA BIOS left it), for the
; display tests (IVMDisplay: size, mode, thumbnail):
;
;   rows 0-4    full blocks (CP437 0xDB) in light red (attribute 0x0C),
;               so a thumbnail's top sixth is exactly DAC colour 12
;   row 10      "VSA-SCREEN" in yellow on blue (attribute 0x1E)
;
; then prints "VSA-SCREEN-READY" on COM1 and idles for ever: HLT with
; interrupts on, so the guest takes its timer interrupts (it heartbeats)
; and costs almost no host CPU. It has no ACPI support: the ACPI power
; button is latched and ignored.
;
; Image: 2 cylinders x 16 heads x 63 sectors, like counter_disk.img.

bits 16
org 7C00h

%include "com1.asm"

DISK_SECTORS equ 2 * 16 * 63
TEXT    equ 0B800h

start:
        jmp 0:main
main:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 7C00h
        cld
        ; The cursor off (CRTC cursor start bit 5), so only the picture shows.
        mov dx, 3D4h
        mov ax, 200Ah
        out dx, ax
        mov ax, TEXT
        mov es, ax
        ; Blank the screen (grey on black spaces), then the blocks.
        xor di, di
        mov ax, 0720h
        mov cx, 80 * 25
        rep stosw
        xor di, di
        mov ax, 0CDBh
        mov cx, 80 * 5
        rep stosw
        mov di, (10 * 80) * 2
        mov si, label
        mov ah, 1Eh
.label: lodsb
        test al, al
        jz .labeled
        stosw
        jmp .label
.labeled:
        com1_init
        mov si, ready
.ready: lodsb
        test al, al
        jz .idle
        mov dx, COM1
        out dx, al
        jmp .ready
.idle:  sti
.halt:  hlt
        jmp .halt

label:  db "VSA-SCREEN", 0
ready:  db `VSA-SCREEN-READY\n`, 0

        times 510 - ($ - $$) db 0
        dw 0AA55h
        times DISK_SECTORS * 512 - ($ - $$) db 0
