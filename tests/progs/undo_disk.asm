; SPDX-License-Identifier: GPL-2.0-or-later
;
; Undo disk: a raw hard-disk image whose boot sector writes to its own disk,
; for the undo-disk tests (services/worker/vm_runtime.h, Undoable): they
; check which file a guest write lands in (the base disk or its .vud).
;
; Sector 1 (LBA 1) is the guest's record:
;
;   offset 0   "VSA-UNDO"  magic
;   offset 8   dword       boots: how many times the guest has booted from
;                          this disk (0 in the image)
;   offset 12  byte        bit 0: power off after the write (a test sets it
;                          in the base disk to make the guest shut itself
;                          down, which applies the VM's UndoAction)
;
; At boot the guest reads the record with INT 13h AH=02h, adds one to
; `boots`, writes it back with AH=03h and prints on COM1
;
;   VSA-UNDO-WROTE <boots>
;
; then either halts with interrupts on forever (a test turns the VM off) or
; writes "Shutdown" to port 8900h, vsa-vm's power-off port. A failed disk
; call prints "VSA-UNDO-FAIL" and halts. So reading `boots` from a disk file
; tells a test how many runs wrote to that file.
;
; Image: 2 cylinders x 16 heads x 63 sectors (1008 KiB), like
; counter_disk.img; sector 0 holds the code, sector 1 the record.

bits 16
org 7C00h

%include "com1.asm"

RECORD  equ 8000h                       ; where the record is read to
DISK_SECTORS equ 2 * 16 * 63

start:
        jmp 0:main                      ; some BIOSes enter at 07C0:0000
main:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        cld
        mov [drive], dl                 ; the BIOS passes the boot drive
        com1_init
        sti

        mov ax, 0201h                   ; read one sector
        call record_io
        jc fail
        cmp dword [RECORD], 'VSA-'
        jne fail
        cmp dword [RECORD + 4], 'UNDO'
        jne fail
        inc dword [RECORD + 8]
        mov ax, 0301h                   ; write it back
        call record_io
        jc fail
        mov si, wrote
        call puts
        mov eax, [RECORD + 8]
        call put_decimal
        mov al, 10
        call putc
        test byte [RECORD + 12], 1
        jnz power_off
idle:   hlt
        jmp idle

fail:   mov si, failed
        call puts
        jmp idle

; "Shutdown" to port 8900h: vsa-vm powers off (hw/apm_shutdown_port.h).
power_off:
        mov dx, 8900h
        mov si, shutdown_text
.next:  lodsb
        test al, al
        jz idle
        out dx, al
        jmp .next

; record_io: INT 13h function AX (02h read / 03h write, one sector) on
; cylinder 0, head 0, sector 2 (LBA 1) of the boot drive, at RECORD.
; Carry set on failure.
record_io:
        mov cx, 0002h
        xor dh, dh
        mov dl, [drive]
        mov bx, RECORD
        int 13h
        ret

; putc, puts, put_decimal (com1.asm).
        com1_decimal_routines

wrote:  db "VSA-UNDO-WROTE ", 0
failed: db `VSA-UNDO-FAIL\n`, 0
shutdown_text:
        db "Shutdown", 0
drive:  db 80h

        times 510 - ($ - $$) db 0
        dw 0AA55h
; Sector 1: the record.
        db "VSA-UNDO"
        dd 0                            ; boots
        db 0                            ; flags: bit 0 power off
        times 1024 - ($ - $$) db 0
        times DISK_SECTORS * 512 - ($ - $$) db 0
